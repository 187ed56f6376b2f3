//! Integration tests of package stores: share folder, FTP client, embedded server, vsftpd interop.

mod util;

use std::time::{Duration, Instant};

use tillsync_transport::{
    EmbeddedFtp, FtpClient, FtpStore, PackageStore, ShareFolder, TransportError, check_ftp,
};
use util::{Embedded, PASSWORD, TIMEOUT, USER, binary_sample, closed_port};

/// Connects a till-side store (never creates the folder).
fn till_store(server: &Embedded, path: &str) -> FtpStore {
    FtpStore::connect(&server.addr(path), USER, PASSWORD, TIMEOUT, false).expect("connects")
}

mod embedded_server {
    use super::*;

    #[test]
    fn share_folder_writes_are_read_over_ftp_byte_for_byte() {
        let server = Embedded::start();
        let mut share = server.share("prod/pkgs");
        let data = binary_sample();
        share.put("p-ART-full-00000001.tspkg", &data).unwrap();
        share.put("index.json", b"{\"v\":1}\n").unwrap();

        let mut ftp = till_store(&server, "prod/pkgs");
        assert_eq!(
            ftp.list().unwrap(),
            vec!["index.json", "p-ART-full-00000001.tspkg"]
        );
        let got = ftp.get("p-ART-full-00000001.tspkg").unwrap();
        assert_eq!(got.len(), data.len(), "binary mode keeps the size");
        assert!(got == data, "binary mode keeps every byte (CRLF, LF, NUL)");
        assert_eq!(ftp.get("index.json").unwrap(), b"{\"v\":1}\n");

        // Replacing through the share folder is seen by the next FTP read.
        share.put("index.json", b"{\"v\":2}\n").unwrap();
        assert_eq!(ftp.get("index.json").unwrap(), b"{\"v\":2}\n");

        share.delete("index.json").unwrap();
        assert_eq!(ftp.list().unwrap(), vec!["p-ART-full-00000001.tspkg"]);
        let e = ftp.get("index.json").unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("index.json"), "{msg}");
        assert!(msg.contains(&server.addr("prod/pkgs").to_string()), "{msg}");
        assert_eq!(ftp.describe(), server.addr("prod/pkgs").to_string());
    }

    #[test]
    fn temporary_files_are_never_listed() {
        let server = Embedded::start();
        let mut share = server.share("pkgs");
        share.put("a.tspkg", b"a").unwrap();
        // Left-overs of an interrupted publication, and a folder.
        std::fs::write(server.folder("pkgs").join(".tmp-b.tspkg-1-2-3"), b"partial").unwrap();
        std::fs::create_dir(server.folder("pkgs").join("sub")).unwrap();

        assert_eq!(share.list().unwrap(), vec!["a.tspkg"]);
        let mut ftp = till_store(&server, "pkgs");
        let listed = ftp.list().unwrap();
        assert!(listed.iter().all(|n| !n.starts_with(".tmp-")), "{listed:?}");
        assert!(listed.contains(&"a.tspkg".to_string()), "{listed:?}");
    }

    #[test]
    fn empty_and_root_folders() {
        let server = Embedded::start();
        std::fs::create_dir_all(server.folder("empty")).unwrap();
        assert!(till_store(&server, "empty").list().unwrap().is_empty());

        server.share("").put("at-root.tspkg", b"r").unwrap();
        let mut root = till_store(&server, "");
        assert!(root.list().unwrap().contains(&"at-root.tspkg".to_string()));
        assert_eq!(root.get("at-root.tspkg").unwrap(), b"r");
    }

    #[test]
    fn writes_over_ftp_are_refused_with_permission_denied() {
        let server = Embedded::start();
        server.share("pkgs").put("live.tspkg", b"original").unwrap();
        let mut ftp = till_store(&server, "pkgs");

        let e = ftp.put("new.tspkg", &binary_sample()).unwrap_err();
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("new.tspkg"), "{e}");

        let e = ftp.delete("live.tspkg").unwrap_err();
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
        let e = ftp
            .client()
            .rename("live.tspkg", "moved.tspkg")
            .unwrap_err();
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
        // Deleting what is not there is fine, even on a read-only server.
        ftp.delete("never-there.tspkg").unwrap();

        assert_eq!(ftp.list().unwrap(), vec!["live.tspkg"]);
        assert_eq!(ftp.get("live.tspkg").unwrap(), b"original");

        // Creating the target folder is refused as well.
        let mut client =
            FtpClient::connect(&server.addr("new/folder"), USER, PASSWORD, TIMEOUT).unwrap();
        assert!(!client.target_exists());
        let e = client.ensure_target_dir().unwrap_err();
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
        assert!(!server.folder("new").exists());
    }

    #[test]
    fn missing_target_folder_is_reported_not_created() {
        let server = Embedded::start();
        let mut ftp = till_store(&server, "no/such/folder");
        let e = ftp.list().unwrap_err();
        assert!(matches!(e, TransportError::FolderNotFound { .. }), "{e:?}");
        assert!(e.is_not_found());
        assert!(e.to_string().contains("no/such/folder"), "{e}");
        assert!(ftp.get("x.tspkg").unwrap_err().is_not_found());
    }

    #[test]
    fn check_ftp_needs_test_txt() {
        let server = Embedded::start();
        std::fs::create_dir_all(server.folder("recette")).unwrap();
        let addr = server.addr("recette");

        let e = check_ftp(&addr, USER, PASSWORD, TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::NotFound { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("test.txt"), "{msg}");
        assert!(msg.contains(&addr.to_string()), "{msg}");

        server
            .share("recette")
            .put("test.txt", b"hello from the server\r\n")
            .unwrap();
        let report = check_ftp(&addr, USER, PASSWORD, TIMEOUT).unwrap();
        assert_eq!(report.test_file, "test.txt");
        assert_eq!(report.test_file_size, 23);
        assert_eq!(report.address, addr.to_string());
        let welcome = report.welcome.clone().unwrap_or_default();
        assert!(welcome.contains("tillsync"), "{welcome:?}");
        assert!(report.elapsed_ms < 10_000);
        assert!(report.to_string().contains("23 bytes"), "{report}");

        let e = check_ftp(&server.addr("missing"), USER, PASSWORD, TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::FolderNotFound { .. }), "{e:?}");
    }

    #[test]
    fn many_clients_at_once() {
        // Passive data ports must not collide when sessions run in parallel.
        let server = Embedded::start();
        let data = binary_sample();
        let mut share = server.share("pkgs");
        for i in 0..4 {
            share.put(&format!("p{i}.tspkg"), &data).unwrap();
        }
        std::thread::scope(|s| {
            for t in 0..6 {
                let (server, data) = (&server, &data);
                s.spawn(move || {
                    let mut ftp = till_store(server, "pkgs");
                    for i in 0..4 {
                        let name = format!("p{}.tspkg", (i + t) % 4);
                        assert!(ftp.get(&name).unwrap() == *data);
                    }
                    assert_eq!(ftp.list().unwrap().len(), 4);
                    ftp.into_client().quit().unwrap();
                });
            }
        });
    }

    #[test]
    fn dropping_the_server_does_not_hang_and_closes_sessions() {
        let server = Embedded::start();
        std::fs::create_dir_all(server.folder("pkgs")).unwrap();
        let mut idle = till_store(&server, "pkgs");
        idle.list().unwrap();
        let port = server.server.local_addr().port();
        let started = Instant::now();
        drop(server);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "drop took {:?}",
            started.elapsed()
        );
        assert!(idle.list().is_err(), "the open session was closed");
        let addr = format!("ftp://127.0.0.1:{port}/pkgs").parse().unwrap();
        let e = FtpClient::connect(&addr, USER, PASSWORD, TIMEOUT).unwrap_err();
        assert!(e.is_unavailable(), "{e:?}");
    }

    #[test]
    fn store_connects_again_after_the_server_dropped_an_idle_session() {
        let dir = tempfile::tempdir().unwrap();
        ShareFolder::new(dir.path().join("pkgs"))
            .put("a.tspkg", b"A")
            .unwrap();
        let server = EmbeddedFtp::new(
            dir.path().to_path_buf(),
            USER,
            PASSWORD,
            "127.0.0.1:0".parse().unwrap(),
        )
        .idle_timeout(Duration::from_secs(1))
        .spawn_in_background()
        .unwrap();
        let addr = server.ftp_address("pkgs");
        let mut store = FtpStore::connect(&addr, USER, PASSWORD, TIMEOUT, false).unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains(PASSWORD), "{debug}");
        let mut plain = FtpStore::new(FtpClient::connect(&addr, USER, PASSWORD, TIMEOUT).unwrap());
        assert_eq!(store.get("a.tspkg").unwrap(), b"A");
        assert_eq!(plain.get("a.tspkg").unwrap(), b"A");

        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(store.get("a.tspkg").unwrap(), b"A", "reconnected");
        assert_eq!(store.list().unwrap(), vec!["a.tspkg"]);
        let e = plain.get("a.tspkg").unwrap_err();
        assert!(!e.is_not_found(), "{e:?}");
        assert!(e.to_string().contains(&addr.to_string()), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starts_and_stops_inside_a_tokio_runtime() {
        let dir = tempfile::tempdir().unwrap();
        ShareFolder::new(dir.path().join("pkgs"))
            .put("a.tspkg", b"\r\n\0")
            .unwrap();
        let handle = EmbeddedFtp::start(
            dir.path().to_path_buf(),
            USER,
            PASSWORD,
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        assert_ne!(handle.local_addr().port(), 0);
        let addr = handle.ftp_address("pkgs");
        // The FTP client is synchronous: keep it off the runtime's threads.
        let got = tokio::task::spawn_blocking(move || {
            let mut ftp = FtpStore::connect(&addr, USER, PASSWORD, TIMEOUT, false).unwrap();
            let got = ftp.get("a.tspkg").unwrap();
            ftp.into_client().quit().unwrap();
            got
        })
        .await
        .unwrap();
        assert_eq!(got, b"\r\n\0");

        let port = handle.local_addr().port();
        let started = Instant::now();
        handle.shutdown().await;
        assert!(started.elapsed() < Duration::from_secs(3));
        let e = tokio::task::spawn_blocking(move || {
            let addr = format!("ftp://127.0.0.1:{port}").parse().unwrap();
            FtpClient::connect(&addr, USER, PASSWORD, TIMEOUT).unwrap_err()
        })
        .await
        .unwrap();
        assert!(
            matches!(e, TransportError::ConnectionRefused { .. }),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn port_in_use_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let e = EmbeddedFtp::start(
            dir.path().to_path_buf(),
            USER,
            PASSWORD,
            taken.local_addr().unwrap(),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, TransportError::ServerStart { .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains(&taken.local_addr().unwrap().to_string()),
            "{e}"
        );
    }
}

mod errors {
    use super::*;

    #[test]
    fn wrong_password_is_login_refused() {
        let server = Embedded::start();
        let addr = server.addr("");
        let e = FtpClient::connect(&addr, USER, "wrong-password", TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::LoginRefused { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(USER) && msg.contains(&addr.to_string()),
            "{msg}"
        );
        assert!(!msg.contains("wrong-password") && !format!("{e:?}").contains("wrong-password"));
        assert!(!e.is_unavailable());

        let e = FtpClient::connect(&addr, "anonymous", "", TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::LoginRefused { .. }), "{e:?}");
    }

    #[test]
    fn nothing_listening_is_connection_refused() {
        let port = closed_port();
        let addr = format!("ftp://127.0.0.1:{port}/pkgs").parse().unwrap();
        let e = FtpClient::connect(&addr, USER, PASSWORD, TIMEOUT).unwrap_err();
        assert!(
            matches!(e, TransportError::ConnectionRefused { .. }),
            "{e:?}"
        );
        assert!(e.is_unavailable());
        assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
        let e = check_ftp(&addr, USER, PASSWORD, TIMEOUT).unwrap_err();
        assert!(e.is_unavailable(), "{e:?}");
    }

    #[test]
    fn silent_server_is_a_timeout() {
        // Accepts the connection but never says hello.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let keeper = std::thread::spawn(move || {
            let conn = listener.accept().map(|(s, _)| s);
            std::thread::sleep(Duration::from_secs(2));
            drop(conn);
        });
        let addr = format!("ftp://127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        let e = FtpClient::connect(&addr, USER, PASSWORD, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(e, TransportError::Timeout { .. }), "{e:?}");
        assert!(e.is_unavailable());
        assert!(e.to_string().contains("welcome"), "{e}");
        keeper.join().unwrap();
    }

    #[test]
    fn names_with_slashes_are_refused_everywhere() {
        let server = Embedded::start();
        std::fs::create_dir_all(server.folder("pkgs")).unwrap();
        let mut ftp = till_store(&server, "pkgs");
        let mut share = server.share("pkgs");
        for name in ["a/b.tspkg", "../etc/passwd", "", "..", ".tmp-x"] {
            for e in [
                ftp.get(name).unwrap_err(),
                ftp.put(name, b"x").unwrap_err(),
                ftp.delete(name).unwrap_err(),
                share.put(name, b"x").unwrap_err(),
                share.get(name).unwrap_err(),
                share.delete(name).unwrap_err(),
            ] {
                assert!(
                    matches!(e, TransportError::InvalidName { .. }),
                    "{name:?}: {e:?}"
                );
            }
        }
    }
}

mod interop {
    use super::*;
    use tillsync_core::FtpAddress;

    /// Against a real vsftpd started by `.ci/start-vsftpd.sh`.
    #[test]
    fn vsftpd_interop() {
        let (Ok(url), Ok(user), Ok(password)) = (
            std::env::var("TILLSYNC_VSFTPD_URL"),
            std::env::var("TILLSYNC_VSFTPD_USER"),
            std::env::var("TILLSYNC_VSFTPD_PASSWORD"),
        ) else {
            if std::env::var("TILLSYNC_REQUIRE_VSFTPD").as_deref() == Ok("1") {
                panic!(
                    "TILLSYNC_REQUIRE_VSFTPD=1 but vsftpd is not configured: \
                     run `eval \"$(.ci/start-vsftpd.sh)\"` first"
                );
            }
            eprintln!();
            eprintln!("**************************************************************");
            eprintln!("*** SKIPPED: vsftpd not configured (vsftpd_interop)");
            eprintln!("*** enable with: eval \"$(.ci/start-vsftpd.sh)\" (as root)");
            eprintln!("*** CI sets TILLSYNC_REQUIRE_VSFTPD=1 to make this a failure");
            eprintln!("**************************************************************");
            return;
        };
        let base: FtpAddress = url
            .parse()
            .expect("TILLSYNC_VSFTPD_URL is an ftp:// address");
        let addr = FtpAddress {
            path: "ci/pkgs".into(),
            ..base.clone()
        };

        // Server side: publish, creating ci/pkgs when missing.
        let mut server_side =
            FtpStore::connect(&addr, &user, &password, TIMEOUT, true).expect("vsftpd login");
        assert!(server_side.client().target_exists());
        for old in server_side.list().unwrap() {
            server_side.delete(&old).unwrap();
        }
        let data = binary_sample();
        server_side.put("a.tspkg", b"first version").unwrap();
        server_side.put("a.tspkg", &data).unwrap(); // rename over an existing file
        server_side
            .put("test.txt", b"tillsync vsftpd check\n")
            .unwrap();
        assert_eq!(server_side.list().unwrap(), vec!["a.tspkg", "test.txt"]);

        // Till side: read only, never creates the folder.
        let mut till = FtpStore::connect(&addr, &user, &password, TIMEOUT, false).unwrap();
        let got = till.get("a.tspkg").unwrap();
        assert!(got == data, "binary transfer is byte-exact through vsftpd");
        let e = till.get("missing.tspkg").unwrap_err();
        assert!(matches!(e, TransportError::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("missing.tspkg"), "{e}");

        // Rename and delete.
        server_side.client().rename("a.tspkg", "b.tspkg").unwrap();
        assert_eq!(till.list().unwrap(), vec!["b.tspkg", "test.txt"]);
        assert!(till.get("b.tspkg").unwrap() == data);
        let e = server_side
            .client()
            .rename("a.tspkg", "c.tspkg")
            .unwrap_err();
        assert!(e.is_not_found(), "{e:?}");
        server_side.delete("b.tspkg").unwrap();
        server_side.delete("b.tspkg").unwrap(); // missing: not an error
        assert!(till.get("b.tspkg").unwrap_err().is_not_found());

        // The "Test connection" button.
        let report = check_ftp(&addr, &user, &password, TIMEOUT).unwrap();
        assert_eq!(report.test_file_size, 22);
        assert!(
            report.welcome.as_deref().unwrap_or("").contains("vsFTPd"),
            "{report:?}"
        );
        server_side.delete("test.txt").unwrap();
        let e = check_ftp(&addr, &user, &password, TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::NotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("test.txt"), "{e}");
        assert!(server_side.list().unwrap().is_empty());

        // Errors a till meets.
        let e = FtpClient::connect(&addr, &user, "not-the-password", TIMEOUT).unwrap_err();
        assert!(matches!(e, TransportError::LoginRefused { .. }), "{e:?}");
        let missing = FtpAddress {
            path: "ci/not-created".into(),
            ..base
        };
        let mut lost = FtpStore::connect(&missing, &user, &password, TIMEOUT, false).unwrap();
        assert!(matches!(
            lost.list().unwrap_err(),
            TransportError::FolderNotFound { .. }
        ));

        server_side.into_client().quit().unwrap();
        till.into_client().quit().unwrap();
    }
}
