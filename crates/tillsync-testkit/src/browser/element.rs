//! Elements of the current page: finding them by CSS selector
//! ([`Browser::find`] and kin) and the [`Element`] helpers (click, type,
//! select, read text, attributes and properties).

use std::fmt;

use serde_json::{Value, json};

use crate::browser::driver::Browser;
use crate::browser::error::{BrowserError, Result};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// The first element matching `css`.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        self.try_find(css)?.ok_or_else(|| self.not_found(css))
    }

    /// Every element matching `css` (maybe none), in document order.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let v = self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )?;
        Ok(elements(self, css, &v))
    }

    /// The first element matching `css`, or `None`.
    pub fn try_find(&self, css: &str) -> Result<Option<Element<'_>>> {
        Ok(self.find_all(css)?.into_iter().next())
    }

    fn not_found(&self, css: &str) -> BrowserError {
        BrowserError::NotFound {
            css: css.to_string(),
            url: self.current_url().unwrap_or_default(),
            page: self.page_excerpt(),
        }
    }
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// The selector it was found by (for error messages).
    css: String,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({:?})", self.css)
    }
}

impl<'b> Element<'b> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Click it (scrolled into view first, as a user would).
    pub fn click(&self) -> Result<()> {
        self.browser
            .post(&self.path("/click"), json!({}))
            .map(drop)
            .map_err(|e| self.context("click", e))
    }

    /// Clear it, then type `text` into it.
    pub fn type_text(&self, text: &str) -> Result<()> {
        self.browser
            .post(&self.path("/clear"), json!({}))
            .map_err(|e| self.context("clear", e))?;
        self.send_keys(text)
    }

    /// Type `text` into it without clearing it first.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.browser
            .post(&self.path("/value"), json!({ "text": text }))
            .map(drop)
            .map_err(|e| self.context("type into", e))
    }

    /// In a `<select>`, choose the option whose value is `value`.
    pub fn select_by_value(&self, value: &str) -> Result<()> {
        let css = format!("option[value=\"{}\"]", css_escape(value));
        let Some(opt) = self.find_all(&css)?.into_iter().next() else {
            let options = self
                .find_all("option")?
                .iter()
                .map(|o| o.attribute("value").map(Option::unwrap_or_default))
                .collect::<Result<_>>()?;
            return Err(BrowserError::NoOption {
                select: self.css.clone(),
                value: value.to_string(),
                url: self.browser.current_url().unwrap_or_default(),
                options,
            });
        };
        if !opt.is_selected()? {
            opt.click()?;
        }
        Ok(())
    }

    /// The first element matching `css` inside this one.
    pub fn find(&self, css: &str) -> Result<Element<'b>> {
        self.find_all(css)?.into_iter().next().ok_or_else(|| {
            let mut e = self.browser.not_found(css);
            if let BrowserError::NotFound { css: c, .. } = &mut e {
                *c = format!("{} {css}", self.css);
            }
            e
        })
    }

    /// Every element matching `css` inside this one.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'b>>> {
        let v = self.browser.post(
            &self.path("/elements"),
            json!({ "using": "css selector", "value": css }),
        )?;
        Ok(elements(self.browser, &format!("{} {css}", self.css), &v))
    }

    /// Its visible text.
    pub fn text(&self) -> Result<String> {
        let v = self
            .browser
            .get(&self.path("/text"))
            .map_err(|e| self.context("read text of", e))?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Its HTML attribute `name`, if set.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let v = self
            .browser
            .get(&self.path(&format!("/attribute/{name}")))
            .map_err(|e| self.context("read attribute of", e))?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Its DOM property `name` (e.g. `value` of an input, as typed).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.browser
            .get(&self.path(&format!("/property/{name}")))
            .map_err(|e| self.context("read property of", e))
    }

    /// The current value of an input, select or textarea.
    pub fn value(&self) -> Result<String> {
        Ok(match self.property("value")? {
            Value::String(s) => s,
            Value::Null => String::new(),
            v => v.to_string(),
        })
    }

    /// Whether a checkbox, radio button or option is selected.
    pub fn is_selected(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/selected"))?.as_bool() == Some(true))
    }

    /// Whether it is displayed.
    pub fn is_displayed(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/displayed"))?.as_bool() == Some(true))
    }

    /// Whether it is enabled (not `disabled`).
    pub fn is_enabled(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/enabled"))?.as_bool() == Some(true))
    }

    fn context(&self, action: &str, e: BrowserError) -> BrowserError {
        match e {
            BrowserError::WebDriver {
                command,
                error,
                message,
            } => BrowserError::WebDriver {
                command: format!("{action} {:?} ({command})", self.css),
                error,
                message,
            },
            e => e,
        }
    }
}

fn elements<'b>(browser: &'b Browser, css: &str, v: &Value) -> Vec<Element<'b>> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str())
                .map(|id| Element {
                    browser,
                    id: id.to_string(),
                    css: css.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `value` quoted for a CSS attribute selector in double quotes.
fn css_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_escape_quotes_and_backslashes() {
        assert_eq!(css_escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(css_escape("plain"), "plain");
    }
}
