//! What the command modules share: the server's and the till's `--data`
//! arguments and errors printed with every cause once.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct DataArg {
    /// The server data folder.
    #[arg(long, env = "TILLSYNC_DATA")]
    pub data: PathBuf,
}

#[derive(Args)]
pub struct TillDataArg {
    /// The till data folder.
    #[arg(long, env = "TILLSYNC_TILL_DATA")]
    pub data: PathBuf,
}

/// The error as one message in which every cause appears once.
///
/// The library errors already put their source into their own message
/// (`"cannot write {path}: {source}"`), and `main` prints the whole chain
/// (`{:#}`), so each cause would appear twice or three times: a cause is
/// kept only when its text is not yet in the message.
pub(crate) fn said_once(e: anyhow::Error) -> anyhow::Error {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg = format!("{msg}: {c}");
        }
    }
    anyhow::Error::msg(msg)
}
