//! The language of the web pages (admin and cashier): French first, as the
//! seed's users speak it, or English.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A page language. French is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French (`fr`), the default.
    #[default]
    Fr,
    /// English (`en`).
    En,
}

impl Lang {
    /// The code written in configuration files and `lang` attributes.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Pick the French or the English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown language code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: expected fr or en")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" => Ok(Lang::Fr),
            "en" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_codes() {
        assert_eq!("FR".parse::<Lang>().unwrap(), Lang::Fr);
        assert_eq!(" en ".parse::<Lang>().unwrap(), Lang::En);
        assert_eq!(Lang::default(), Lang::Fr);
        assert_eq!(Lang::En.to_string(), "en");
        assert_eq!(Lang::Fr.pick("Caisse", "Till"), "Caisse");
        let err = "de".parse::<Lang>().unwrap_err();
        assert!(err.to_string().contains("\"de\""), "{err}");
    }
}
