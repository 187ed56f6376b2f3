//! Texts of the admin pages that several pages share, in French (first, as
//! the seed's users speak it) and English: field labels of the POS folder
//! tabs, menu entries. One-off sentences use `Lang::pick` where they appear.

use tillsync_core::Lang;
use tillsync_core::config::{ConfigError, KEYS};

/// `(key, French, English)` labels of the configuration keys, the seed's
/// wording where it names the field.
const FIELD_LABELS: &[(&str, &str, &str)] = &[
    ("folder.name", "Dossier", "Folder"),
    ("folder.admin", "Administrateur", "Administrator"),
    ("folder.timezone", "Fuseau horaire", "Time zone"),
    (
        "folder.payment_methods",
        "Moyens de paiement",
        "Payment methods",
    ),
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
    (
        "till.day_close_time",
        "Heure de clôture automatique de la journée",
        "Automatic day closing time",
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

/// `(key, French hint)` of every configuration key: the French of the
/// English descriptions in [`tillsync_core::config::KEYS`].
const HINTS_FR: &[(&str, &str)] = &[
    (
        "folder.name",
        "dossier TPV (société) auquel s'applique cette configuration, par exemple DEMO",
    ),
    (
        "folder.admin",
        "compte utilisateur qui administre le dossier TPV",
    ),
    (
        "folder.payment_methods",
        "moyens de paiement acceptés par les caisses, séparés par des virgules (par défaut cash,card,cheque,voucher) ; une caisse les reçoit avec son package de déploiement",
    ),
    (
        "folder.timezone",
        "fuseau horaire IANA qui nomme les journées et les heures affichées, par exemple Europe/Paris, Indian/Reunion (par défaut Europe/Paris)",
    ),
    (
        "server.listen",
        "adresse et port d'écoute du service web (par défaut 127.0.0.1:8080)",
    ),
    (
        "server.tls_cert",
        "certificat PEM (chaîne) du service web ; avec server.tls_key il sert en HTTPS (vide : HTTP)",
    ),
    (
        "server.tls_key",
        "clé privée PEM de server.tls_cert (vide : HTTP)",
    ),
    (
        "db.url",
        "base de données du serveur : sqlite://CHEMIN, relatif au dossier de données (par défaut sqlite://server.db), ou postgres://UTILISATEUR[:MOT_DE_PASSE]@HÔTE[:PORT]/BASE",
    ),
    (
        "ftp.mode",
        "comment les packages arrivent sur le serveur FTP : copy (copie dans le répertoire de partage) ou put (envoi FTP)",
    ),
    (
        "ftp.share_dir",
        "répertoire de partage où les packages sont préparés, relatif au dossier de données (par défaut share)",
    ),
    (
        "ftp.address",
        "adresse du serveur FTP : ftp://hôte:port/chemin ou hôte:port{}répertoire-cible (par défaut ftp://127.0.0.1:2121)",
    ),
    (
        "ftp.user",
        "nom de l'utilisateur de connexion au serveur FTP (par défaut till)",
    ),
    (
        "ftp.password",
        "mot de passe de l'utilisateur FTP (généré à l'initialisation)",
    ),
    (
        "ftp.embedded",
        "faire tourner le serveur FTP intégré, qui sert le répertoire de partage : true ou false (par défaut true)",
    ),
    (
        "ftp.listen",
        "adresse et port du serveur FTP intégré (par défaut 127.0.0.1:2121)",
    ),
    (
        "till.webservice_url",
        "URL par laquelle les caisses joignent le service web, http:// ou https:// (par défaut http://127.0.0.1:8080)",
    ),
    (
        "till.sync_interval_ms",
        "attente entre deux synchronisations des tickets sur une caisse, en ms (par défaut 5000)",
    ),
    (
        "till.ws_timeout_ms",
        "délai d'attente d'un appel au service web sur une caisse, en ms (par défaut 60000)",
    ),
    (
        "till.ping_timeout_ms",
        "délai du test de connexion de la caisse au serveur, en ms (par défaut 3000)",
    ),
    (
        "till.retry_interval_ms",
        "attente entre deux tentatives de synchronisation après une erreur, en ms (par défaut 10000)",
    ),
    (
        "till.template_customer",
        "code du client modèle dont sont copiés les clients créés en caisse (par défaut CLI000000)",
    ),
    (
        "till.day_close_time",
        "heure locale HH:MM à laquelle la caisse clôture d'elle-même la journée si personne ne l'a fait (par défaut 23:59)",
    ),
    (
        "export.interval_ms",
        "attente entre deux exports sur le serveur, en ms (par défaut 60000)",
    ),
    (
        "export.retention",
        "packages incrémentaux conservés par table sur le serveur FTP, au moins 1 (par défaut 10)",
    ),
    (
        "ui.language",
        "langue des pages d'administration : fr ou en (par défaut fr)",
    ),
];

/// The hint line under a configuration field: the French text, or the
/// English description of [`tillsync_core::config::KEYS`].
pub fn hint(lang: Lang, key: &str) -> &'static str {
    let en = KEYS.iter().find(|k| k.0 == key).map(|k| k.1).unwrap_or("");
    match lang {
        Lang::En => en,
        Lang::Fr => HINTS_FR
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, fr)| *fr)
            .unwrap_or(en),
    }
}

/// Known reasons of [`ConfigError`] (as `tillsync_core::config` words them)
/// and their French; a reason may also start with the English text.
const REASONS_FR: &[(&str, &str)] = &[
    ("it must not be empty", "la valeur ne doit pas être vide"),
    (
        "remove the spaces at the start or end",
        "retirez les espaces au début ou à la fin",
    ),
    (
        "control characters (tabs, line breaks…) are not allowed",
        "les caractères de contrôle (tabulations, retours à la ligne…) ne sont pas permis",
    ),
    (
        "control characters are not allowed in a path",
        "les caractères de contrôle ne sont pas permis dans un chemin",
    ),
    (
        "at most 64 characters are allowed",
        "64 caractères au plus sont permis",
    ),
    (
        r"'/' and '\' are not allowed in a folder name",
        r"« / » et « \ » ne sont pas permis dans un nom de dossier",
    ),
    (
        "expected up to 32 letters (A-Z, a-z), digits, '_' or '-', e.g. T001",
        "attendu : jusqu'à 32 lettres (A-Z, a-z), chiffres, « _ » ou « - », par exemple T001",
    ),
    (
        "the folder must not be empty",
        "le répertoire ne doit pas être vide",
    ),
    (
        "the password must not be empty",
        "le mot de passe ne doit pas être vide",
    ),
    (
        "expected a whole number of milliseconds greater than 0, e.g. 5000",
        "attendu : un nombre entier de millisecondes supérieur à 0, par exemple 5000",
    ),
    (
        "expected a number of milliseconds greater than 0",
        "attendu : un nombre de millisecondes supérieur à 0",
    ),
    (
        "expected true or false (yes/no, on/off, 1/0 also work)",
        "attendu : true ou false (yes/no, on/off, 1/0 conviennent aussi)",
    ),
    (
        "expected an IP address and port such as 127.0.0.1:8080 or [::1]:8080",
        "attendu : une adresse IP et un port, comme 127.0.0.1:8080 ou [::1]:8080",
    ),
    (
        "expected copy (copy into the share folder) or put (FTP upload)",
        "attendu : copy (copie dans le répertoire de partage) ou put (envoi FTP)",
    ),
    (
        "expected a whole number of at least 1",
        "attendu : un nombre entier d'au moins 1",
    ),
    (
        "at least 1 incremental package per table must be kept",
        "il faut conserver au moins 1 package incrémental par table",
    ),
    ("expected fr or en", "attendu : fr ou en"),
    (
        "expected sqlite://PATH, for example sqlite://server.db",
        "attendu : sqlite://CHEMIN, par exemple sqlite://server.db",
    ),
    (
        "the database file is missing after sqlite://, for example sqlite://server.db",
        "le fichier de base manque après sqlite://, par exemple sqlite://server.db",
    ),
    (
        "expected a plain file path after sqlite:// (no options, no control characters)",
        "attendu : un simple chemin de fichier après sqlite:// (sans options ni caractères de contrôle)",
    ),
    (
        "the PostgreSQL URL names no host",
        "l'URL PostgreSQL ne nomme aucun hôte",
    ),
    (
        "the PostgreSQL URL names no database",
        "l'URL PostgreSQL ne nomme aucune base",
    ),
    (
        "the PostgreSQL URL holds spaces or control characters",
        "l'URL PostgreSQL contient des espaces ou des caractères de contrôle",
    ),
    (
        "server.tls_cert is set: HTTPS needs the private key too",
        "server.tls_cert est renseigné : HTTPS demande aussi la clé privée",
    ),
    (
        "server.tls_key is set: HTTPS needs the certificate too",
        "server.tls_key est renseigné : HTTPS demande aussi le certificat",
    ),
    (
        "expected an http:// or https:// URL, e.g. http://127.0.0.1:8080",
        "attendu : une URL http:// ou https://, par exemple http://127.0.0.1:8080",
    ),
    ("the host is missing", "l'hôte manque"),
    (
        "credentials do not belong in the URL",
        "l'identifiant et le mot de passe n'ont pas leur place dans l'URL",
    ),
    (
        "remove the '?…' or '#…' part",
        "retirez la partie « ?… » ou « #… »",
    ),
    ("not a valid URL", "URL illisible"),
    ("it is empty", "la valeur est vide"),
    (
        "only ftp:// addresses are supported",
        "seules les adresses ftp:// sont acceptées",
    ),
    (
        "credentials do not belong in the address; use ftp.user and ftp.password",
        "l'identifiant et le mot de passe n'ont pas leur place dans l'adresse : utilisez ftp.user et ftp.password",
    ),
    ("unclosed '[' in host", "« [ » non refermé dans l'hôte"),
    ("unexpected text after host", "texte inattendu après l'hôte"),
    (
        "the host contains characters that are not allowed",
        "l'hôte contient des caractères non permis",
    ),
    (
        "the target folder may not contain '.' or '..'",
        "le répertoire cible ne peut pas contenir « . » ni « .. »",
    ),
    (
        "the target folder is not a clean path",
        "le répertoire cible n'est pas un chemin propre",
    ),
    (
        "port 0 is not a valid FTP port",
        "le port 0 n'est pas un port FTP valide",
    ),
];

/// The French of a known reason (matched whole, or as its start with the
/// rest kept); `None` for a reason this table does not know.
fn reason_fr(reason: &str) -> Option<String> {
    let reason = reason.trim();
    // `db.url`'s PostgreSQL reasons end with the expected form.
    let reason = reason
        .split_once("; expected postgres://")
        .map(|(r, _)| r)
        .unwrap_or(reason);
    REASONS_FR.iter().find_map(|(en, fr)| {
        if reason == *en {
            Some((*fr).to_string())
        } else {
            let rest = reason.strip_prefix(en)?.trim();
            Some(format!("{fr} {rest}"))
        }
    })
}

/// A refused configuration value as the admin pages show it: the error's
/// own (English) text on English pages; on French pages a French sentence
/// naming the field (label and key) and what is expected.
pub fn config_error(lang: Lang, e: &ConfigError) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    let field = |key: &str| {
        let label = FIELD_LABELS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, fr, _)| *fr);
        match label {
            Some(l) => format!("« {l} » ({key})"),
            None => key.to_string(),
        }
    };
    // What is wrong, in French: the known reason, else what the key expects.
    let why = |key: &str, reason: &str| {
        reason_fr(reason).unwrap_or_else(|| format!("attendu : {}", hint(Lang::Fr, key)))
    };
    match e {
        ConfigError::Invalid { key, value, reason } if value.is_empty() => {
            format!("Valeur refusée pour {} : {}.", field(key), why(key, reason))
        }
        ConfigError::Invalid { key, value, reason } => format!(
            "Valeur « {value} » refusée pour {} : {}.",
            field(key),
            why(key, reason)
        ),
        ConfigError::InvalidSecret { key, reason } => format!(
            "Valeur refusée pour {} (non affichée) : {}.",
            field(key),
            why(key, reason)
        ),
        ConfigError::BadPostgresUrl { key, reason } => format!(
            "URL refusée pour {} (non affichée) : {} ; attendu : postgres://UTILISATEUR[:MOT_DE_PASSE]@HÔTE[:PORT]/BASE.",
            field(key),
            reason_fr(reason).unwrap_or_else(|| "URL PostgreSQL illisible".into())
        ),
        ConfigError::UnknownKey { key, valid } => {
            format!("Clé de configuration inconnue « {key} » ; clés valides : {valid}.")
        }
        ConfigError::NotFound { path } => format!(
            "Le fichier de configuration {} n'existe pas.",
            path.display()
        ),
        ConfigError::Read { path, error } => format!(
            "Impossible de lire le fichier de configuration {} ({error}).",
            path.display()
        ),
        ConfigError::Write { path, error } => format!(
            "Impossible d'écrire le fichier de configuration {} ({error}) : rien n'a été enregistré.",
            path.display()
        ),
        ConfigError::Parse { path, message } => format!(
            "Le fichier de configuration {} n'est pas valide ({message}).",
            path.display()
        ),
        ConfigError::InFile { path, error } => format!(
            "Fichier de configuration {} : {}",
            path.display(),
            config_error(lang, error)
        ),
        ConfigError::Encode(m) => format!("Impossible d'écrire la configuration en TOML ({m})."),
    }
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
            "folder.timezone",
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
            "till.day_close_time",
            "folder.payment_methods",
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

    /// Every configuration key has a French hint, and a French page never
    /// shows the English one.
    #[test]
    fn every_key_has_a_french_hint() {
        for (key, en, _) in KEYS {
            let fr = HINTS_FR
                .iter()
                .find(|(k, _)| k == key)
                .unwrap_or_else(|| panic!("{key} has no French hint"))
                .1;
            assert!(!fr.is_empty() && fr != *en, "{key}");
            assert_eq!(hint(Lang::Fr, key), fr);
            assert_eq!(hint(Lang::En, key), *en);
        }
        assert_eq!(HINTS_FR.len(), KEYS.len(), "a French hint for no key");
    }

    /// Every refusal the admin pages can meet reads in French on a French
    /// page, naming the field; English pages keep the library's text.
    #[test]
    fn validation_errors_in_french() {
        let mut cfg = tillsync_core::ServerConfig::new_default("DEMO").unwrap();
        let cases: &[(&str, &str, &str)] = &[
            (
                "till.sync_interval_ms",
                "abc",
                "nombre entier de millisecondes",
            ),
            ("till.ws_timeout_ms", "0", "supérieur à 0"),
            ("server.listen", "localhost", "une adresse IP et un port"),
            ("ftp.mode", "send", "copy (copie"),
            ("ftp.embedded", "peut-être", "true ou false"),
            ("ftp.address", "http://x", "seules les adresses ftp://"),
            ("ftp.address", "ftp://:21", "l'hôte manque"),
            ("ftp.address", "ftp://h:0", "le port 0"),
            (
                "till.webservice_url",
                "ftp://h",
                "une URL http:// ou https://",
            ),
            ("till.webservice_url", "not a url", "URL illisible"),
            (
                "till.webservice_url",
                "http://u:p@h/",
                "n'ont pas leur place",
            ),
            ("till.template_customer", "a b", "jusqu'à 32 lettres"),
            ("folder.name", "", "ne doit pas être vide"),
            ("folder.name", "a/b", "ne sont pas permis"),
            ("folder.admin", " x", "retirez les espaces"),
            ("export.retention", "0", "au moins 1 package"),
            ("export.retention", "x", "nombre entier d'au moins 1"),
            ("ui.language", "de", "fr ou en"),
            ("db.url", "mysql://x", "sqlite://CHEMIN"),
            ("db.url", "postgres://u:secret@/db", "ne nomme aucun hôte"),
            ("ftp.password", "", "le mot de passe ne doit pas être vide"),
            ("ftp.share_dir", "", "le répertoire ne doit pas être vide"),
            ("no.such", "1", "Clé de configuration inconnue"),
        ];
        for (key, value, expected) in cases {
            let e = cfg.set(key, value).expect_err(key);
            let fr = config_error(Lang::Fr, &e);
            assert!(fr.contains(expected), "{key}={value:?}: {fr}");
            assert!(fr.contains(key), "{key}: the message names the key: {fr}");
            assert!(!fr.contains("invalid value"), "{key}: English left: {fr}");
            assert!(!fr.contains("secret"), "a secret was shown: {fr}");
            assert_eq!(config_error(Lang::En, &e), e.to_string());
        }
        let e = cfg.set("till.ping_timeout_ms", "-5").unwrap_err();
        let fr = config_error(Lang::Fr, &e);
        assert!(
            fr.starts_with(
                "Valeur « -5 » refusée pour « Délai du ping (ms) » (till.ping_timeout_ms) : attendu : un nombre entier"
            ),
            "{fr}"
        );
        // A reason this table does not know falls back to the key's hint.
        let odd = ConfigError::Invalid {
            key: "ftp.listen".into(),
            value: "x".into(),
            reason: "something new".into(),
        };
        let fr = config_error(Lang::Fr, &odd);
        assert!(
            fr.contains("attendu : adresse et port du serveur FTP intégré"),
            "{fr}"
        );
    }
}
