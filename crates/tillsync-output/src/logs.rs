//! [`init_logs`]: the commands' logs on stderr, text or JSON lines, filtered
//! by `TILLSYNC_LOG`.

/// Logs on stderr, filtered by `TILLSYNC_LOG` (default `default_level`).
pub fn init_logs(format: &str, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TILLSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level))
        // suppaftp logs the FTP password (`PASS …`) at trace level: never below info.
        .add_directive("suppaftp=info".parse().expect("valid directive"))
        // libunftp logs every FTP command of a till at info, inside spans
        // that print its whole session (about 5 KB a line): warnings only.
        .add_directive("libunftp=warn".parse().expect("valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
