//! The frame every cashier page shares: the header bar (till, store,
//! navigation, connection indicator, tickets waiting), the flash message
//! and the CSRF field of the forms; and the page with only a message.

use maud::{DOCTYPE, Markup, html};
use tillsync_core::lang::Lang;

use crate::cashier::session::{CSRF_FIELD, Flash};

/// What every page shows in its header.
pub(crate) struct Header {
    pub till: String,
    pub store: String,
    /// The connection as the synchroniser last saw it.
    pub online: Option<bool>,
    /// Tickets waiting in the outbox.
    pub tickets_waiting: u64,
    /// All items waiting in the outbox (tickets and customer changes).
    pub items_waiting: u64,
    /// The cashier logged in on this session, with the session's CSRF
    /// token for the logout form.
    pub cashier: Option<(String, String)>,
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// The message shown once after a redirect (success or failure), if any.
pub(crate) fn flash(f: Option<&Flash>) -> Markup {
    html! {
        @if let Some(f) = f {
            @if f.ok { p.flash-ok role="status" { (f.text) } }
            @else { p.error role="alert" { (f.text) } }
        }
    }
}

/// A whole page: `title`, the header bar, `body`; `here` (`sale`,
/// `customers`) marks the current link of the navigation.
pub(crate) fn layout(lang: Lang, title: &str, h: &Header, here: &str, body: Markup) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let (online, label) = match h.online {
        Some(true) => ("yes", l("Serveur joignable", "Server reachable")),
        Some(false) => ("no", l("Serveur injoignable", "Server unreachable")),
        None => (
            "no",
            l("Connexion non vérifiée", "Connection not checked yet"),
        ),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (h.till) }
                link rel="stylesheet" href="/assets/cashier.css";
                script src="/assets/cashier.js" defer {}
            }
            body {
                header.bar {
                    span.till { (l("Caisse ", "Till ")) strong { (h.till) } " · " (l("magasin ", "store ")) (h.store) }
                    nav {
                        a href="/" aria-current=[(here == "sale").then_some("page")] { (l("Vente", "Sale")) }
                        a href="/customers" aria-current=[(here == "customers").then_some("page")] { (l("Clients", "Customers")) }
                        a href="/tickets" aria-current=[(here == "tickets").then_some("page")] { (l("Tickets", "Tickets")) }
                    }
                    @if let Some((name, token)) = &h.cashier {
                        form #logout method="post" action="/logout" {
                            (csrf(token))
                            span.cashier-name { (l("Caissier : ", "Cashier: ")) strong #cashier-name { (name) } }
                            " "
                            button #logout-submit type="submit" { (l("Déconnexion", "Log out")) }
                        }
                    }
                    span #connection data-online=(online)
                        data-label-yes=(l("Serveur joignable", "Server reachable"))
                        data-label-no=(l("Serveur injoignable", "Server unreachable"))
                        title=(l("État de la connexion au serveur (ping)", "Connection to the server (ping)")) {
                        span.icon aria-hidden="true" {}
                        span.label { (label) }
                    }
                    span.outbox title=(format!("{} {}", h.items_waiting, l("élément(s) en attente au total (tickets et clients)", "item(s) waiting in all (tickets and customers)"))) {
                        (l("Tickets à envoyer : ", "Tickets waiting to go up: "))
                        strong #outbox-count { (h.tickets_waiting) }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page with only a message (refused request, unknown ticket).
pub(crate) fn message(lang: Lang, h: &Header, text: &str) -> Markup {
    let body = html! {
        p.error role="alert" { (text) }
        p { a href="/" { (lang.pick("Retour à la caisse", "Back to the till")) } }
    };
    layout(lang, lang.pick("Erreur", "Error"), h, "", body)
}
