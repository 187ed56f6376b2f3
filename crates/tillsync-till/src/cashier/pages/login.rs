//! The cashiers' login: pick one's name, type one's PIN.

use maud::{Markup, html};
use tillsync_core::lang::Lang;

use crate::cashier::pages::layout::{Header, csrf, flash, layout};
use crate::cashier::session::Flash;

/// The login page over the cashiers `(code, name)` of the till's store.
pub(crate) fn page(
    lang: Lang,
    h: &Header,
    token: &str,
    cashiers: &[(String, String)],
    msg: Option<&Flash>,
) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let body = html! {
        section.login {
            h2 { (l("Connexion du caissier", "Cashier login")) }
            (flash(msg))
            @if cashiers.is_empty() {
                p.hint { (l("Cette caisse n'a pas de caissiers (table CASHIER) : la vente se fait sans connexion.",
                            "This till has no cashiers (table CASHIER): selling needs no login.")) }
                p { a.button href="/" { (l("Aller à la caisse", "Go to the till")) } }
            } @else {
                form #login method="post" action="/login" {
                    (csrf(token))
                    label { (l("Caissier", "Cashier"))
                        select name="cashier" required {
                            @for (code, name) in cashiers {
                                option value=(code) { (name) }
                            }
                        }
                    }
                    label { (l("Code (PIN)", "PIN"))
                        input #pin type="password" name="pin" inputmode="numeric" autocomplete="off"
                            pattern="[0-9]{4,8}" minlength="4" maxlength="8" required;
                    }
                    button #login-submit type="submit" { (l("Se connecter", "Log in")) }
                }
                p.hint { (l("Trois codes erronés de suite verrouillent la connexion une minute (puis deux, quatre…).",
                            "Three wrong PINs in a row lock the login for a minute (then two, four…).")) }
            }
        }
    };
    layout(lang, l("Connexion", "Login"), h, "login", body)
}
