//! HTTPS: the web service with `server.tls_cert`/`server.tls_key`, the till
//! trusting the CA that travels in its deployment package.

use std::path::Path;
use std::process::Command;

use tillsync_testkit::{TestServer, pull};

/// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl
/// command (installed by .ci/run).
fn make_certs(dir: &Path) -> bool {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tillsync test CA",
    ]) && run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ])
}

#[test]
fn till_loads_over_https_and_refuses_an_untrusted_server() {
    let mut server = TestServer::start(200);
    let certs = server.root.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    if !make_certs(&certs) {
        assert!(
            std::env::var_os("TILLSYNC_CI").is_none(),
            "CI must have the openssl command"
        );
        eprintln!("SKIPPED: no openssl command to make test certificates");
        return;
    }
    // Full chain: the leaf, then the CA (which the tills are given to trust).
    let chain = [
        std::fs::read_to_string(certs.join("server.pem")).unwrap(),
        std::fs::read_to_string(certs.join("ca.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(certs.join("chain.pem"), chain).unwrap();
    server.stop();
    let mut cfg = server.config();
    cfg.set("server.tls_cert", certs.join("chain.pem").to_str().unwrap())
        .unwrap();
    cfg.set(
        "server.tls_key",
        certs.join("server.key.pem").to_str().unwrap(),
    )
    .unwrap();
    cfg.save(server.dir()).unwrap();
    server.restart();
    assert!(
        server
            .config()
            .get("till.webservice_url")
            .unwrap()
            .starts_with("https://")
    );
    server.export();

    let till = server.install_till("T001");
    let toml = std::fs::read_to_string(till.join("till.toml")).unwrap();
    assert!(
        toml.contains("BEGIN CERTIFICATE"),
        "the CA travels in the deployment package"
    );
    let r = pull(&till).unwrap();
    assert_eq!(r.plan_source, "web service", "{r:#?}");
    server.assert_till_matches(&till);

    // A till that does not trust this server's CA refuses to talk to it (and
    // falls back to the signed index over FTP: the data path stays safe).
    let untrusting = server.install_till("T002");
    let mut tcfg = tillsync_core::TillConfig::load(&untrusting).unwrap();
    tcfg.server.ca_pem = None;
    tcfg.save(&untrusting).unwrap();
    let r = pull(&untrusting).unwrap();
    assert!(
        r.plan_source.starts_with("package index") && r.plan_source.contains("unreachable"),
        "{}",
        r.plan_source
    );
}
