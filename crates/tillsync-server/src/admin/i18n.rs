//! Texts of the admin pages that several pages share, in French (first, as
//! the seed's users speak it) and English: field labels of the POS folder
//! tabs, menu entries. One-off sentences use `Lang::pick` where they appear.

use tillsync_core::Lang;

/// `(key, French, English)` labels of the configuration keys, the seed's
/// wording where it names the field.
const FIELD_LABELS: &[(&str, &str, &str)] = &[
    ("folder.name", "Dossier", "Folder"),
    ("folder.admin", "Administrateur", "Administrator"),
    (
        "server.listen",
        "Adresse d'écoute du service web",
        "Web service listen address",
    ),
    (
        "server.tls_cert",
        "Certificat TLS (PEM)",
        "TLS certificate (PEM)",
    ),
    ("server.tls_key", "Clé TLS (PEM)", "TLS key (PEM)"),
    (
        "export.interval_ms",
        "Durée entre deux exports (ms)",
        "Wait between two exports (ms)",
    ),
    (
        "export.retention",
        "Packages incrémentaux conservés par table",
        "Incremental packages kept per table",
    ),
    ("ui.language", "Langue des pages", "Page language"),
    ("db.url", "Serveur de BDD (URL)", "Database server (URL)"),
    (
        "ftp.mode",
        "Copie sur le répertoire de partage ou envoi FTP",
        "Copy to the share folder or FTP upload",
    ),
    ("ftp.share_dir", "Répertoire de partage", "Share folder"),
    ("ftp.address", "Adresse", "Address"),
    ("ftp.user", "Utilisateur de connexion", "Login user"),
    ("ftp.password", "Mot de passe", "Password"),
    ("ftp.embedded", "Serveur FTP intégré", "Built-in FTP server"),
    (
        "ftp.listen",
        "Adresse d'écoute du serveur FTP intégré",
        "Built-in FTP server listen address",
    ),
    (
        "till.webservice_url",
        "URL du WebService",
        "Web service URL",
    ),
    (
        "till.sync_interval_ms",
        "Durée d'attente entre 2 synchronisations (ms)",
        "Wait between 2 synchronisations (ms)",
    ),
    (
        "till.ws_timeout_ms",
        "Délai d'attente du WebService (ms)",
        "Web service timeout (ms)",
    ),
    (
        "till.ping_timeout_ms",
        "Délai du ping (ms)",
        "Ping timeout (ms)",
    ),
    (
        "till.retry_interval_ms",
        "Attente entre 2 tentatives après une erreur (ms)",
        "Wait between 2 attempts after an error (ms)",
    ),
    (
        "till.template_customer",
        "Code client modèle en création",
        "Template customer code",
    ),
];

/// The label of a configuration key (the key itself if it has none).
pub fn field_label(lang: Lang, key: &'static str) -> &'static str {
    FIELD_LABELS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, fr, en)| lang.pick(fr, en))
        .unwrap_or(key)
}

/// A tab of the POS folder page: `(id, French, English, keys)`.
pub type Tab = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// The seed's four tabs of the POS folder ("Dossier TPV"), with the keys
/// each edits. The export schedule and the page language sit on the Server tab.
pub const TABS: &[Tab] = &[
    (
        "server",
        "Serveur",
        "Server",
        &[
            "folder.name",
            "folder.admin",
            "server.listen",
            "server.tls_cert",
            "server.tls_key",
            "export.interval_ms",
            "export.retention",
            "ui.language",
        ],
    ),
    ("db", "Serveur BDD", "Server DB", &["db.url"]),
    (
        "ftp",
        "Serveur FTP",
        "FTP server",
        &[
            "ftp.mode",
            "ftp.share_dir",
            "ftp.address",
            "ftp.user",
            "ftp.password",
            "ftp.embedded",
            "ftp.listen",
        ],
    ),
    (
        "till",
        "Caisse",
        "Till",
        &[
            "till.webservice_url",
            "till.sync_interval_ms",
            "till.ws_timeout_ms",
            "till.ping_timeout_ms",
            "till.retry_interval_ms",
            "till.template_customer",
        ],
    ),
];

/// Menu entries: `(path, French, English)`.
pub const MENU: &[(&str, &str, &str)] = &[
    ("/admin/tills", "Superviseur des caisses", "Till supervisor"),
    (
        "/admin/journal",
        "Journal de synchronisation",
        "Sync journal",
    ),
    ("/admin/folder", "Dossier TPV", "POS folder"),
    ("/admin/tables", "Tables à synchroniser", "Sync tables"),
    ("/admin/export", "Export", "Export"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_core::config::KEYS;

    /// Every configuration key is on exactly one tab and has a label in
    /// both languages.
    #[test]
    fn every_key_on_one_tab_with_labels() {
        for (key, _, _) in KEYS {
            let n = TABS.iter().filter(|t| t.3.contains(key)).count();
            assert_eq!(n, 1, "{key} is on {n} tabs");
            let (_, fr, en) = FIELD_LABELS
                .iter()
                .find(|(k, _, _)| k == key)
                .unwrap_or_else(|| panic!("{key} has no label"));
            assert!(!fr.is_empty() && !en.is_empty());
        }
        assert_eq!(field_label(Lang::Fr, "ftp.password"), "Mot de passe");
        assert_eq!(field_label(Lang::En, "ftp.password"), "Password");
    }
}
