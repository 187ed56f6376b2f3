//! The file operations of an [`FtpClient`] in its target folder: upload
//! (temporary name, then rename), download, list, delete, rename, quit.

use std::io::Write;

use suppaftp::{FtpError, Status};

use crate::error::TransportError;
use crate::ftp::client::FtpClient;
use crate::ftp::reply::{Op, reply_code};
use crate::store::{clean_listing, temp_name, validate_name};

impl FtpClient {
    /// Stores `bytes` as `remote` (no temporary name, no rename).
    fn store_raw(
        &mut self,
        remote: &str,
        shown_name: &str,
        bytes: &[u8],
    ) -> Result<(), TransportError> {
        let op = Op::Stor(shown_name);
        let mut transfer = self
            .stream
            .put_with_stream(remote)
            .map_err(|e| self.map(op, e))?;
        let written = transfer.write_all(bytes).and_then(|()| transfer.flush());
        let finished = transfer.finish();
        match (written, finished) {
            (Ok(()), Ok(())) => Ok(()),
            // The server's reply explains a failed write better than a broken pipe.
            (_, Err(e @ FtpError::UnexpectedResponse(_))) => Err(self.map(op, e)),
            (Err(io), _) => Err(self.map(op, FtpError::ConnectionError(io))),
            (Ok(()), Err(e)) => Err(self.map(op, e)),
        }
    }

    /// RNFR + RNTO. Returns whether RNFR was accepted, with the result.
    fn rename_raw(&mut self, from: &str, to: &str) -> (bool, Result<(), TransportError>) {
        if let Err(e) = self
            .stream
            .custom_command(format!("RNFR {from}"), &[Status::RequestFilePending])
        {
            return (false, Err(self.map(Op::RenameFrom(from), e)));
        }
        let result = self
            .stream
            .custom_command(
                format!("RNTO {to}"),
                &[Status::RequestedFileActionOk, Status::CommandOk],
            )
            .map(|_| ())
            .map_err(|e| self.map(Op::RenameTo(from, to), e));
        (true, result)
    }

    /// Publishes `bytes` as `name`: uploads under a temporary name, then
    /// renames it over `name`. If the server refuses to rename over an
    /// existing file (some Windows servers do), the old file is deleted and
    /// the rename retried.
    pub fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        validate_name(name)?;
        self.require_target()?;
        let tmp = temp_name(name);
        if let Err(e) = self.store_raw(&tmp, name, bytes) {
            let _ = self.stream.rm(&tmp);
            return Err(e);
        }
        let (from_ok, result) = self.rename_raw(&tmp, name);
        let result = match result {
            Err(first) if from_ok => {
                if self.stream.rm(name).is_ok() {
                    self.rename_raw(&tmp, name).1.map_err(|_| first)
                } else {
                    Err(first)
                }
            }
            other => other,
        };
        if result.is_err() {
            let _ = self.stream.rm(&tmp);
        }
        result
    }

    /// Downloads `name` from the target folder.
    pub fn download(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        validate_name(name)?;
        self.require_target()?;
        self.stream
            .retr(name, |r| {
                let mut buf = Vec::new();
                r.read_to_end(&mut buf).map_err(FtpError::ConnectionError)?;
                Ok(buf)
            })
            .map_err(|e| self.map(Op::Retr(name), e))
    }

    /// The file names of the target folder (NLST), without folder prefix,
    /// `.`, `..` and temporary names, sorted.
    pub fn list(&mut self) -> Result<Vec<String>, TransportError> {
        self.require_target()?;
        match self.stream.nlst(None) {
            Ok(lines) => Ok(clean_listing(lines)),
            // Some servers answer "550/450 No files found" for an empty folder.
            Err(FtpError::UnexpectedResponse(r)) if matches!(reply_code(&r), 450 | 550) => {
                Ok(Vec::new())
            }
            Err(e) => Err(self.map(Op::List, e)),
        }
    }

    /// Deletes `name`; a missing file is not an error.
    pub fn delete(&mut self, name: &str) -> Result<(), TransportError> {
        validate_name(name)?;
        self.require_target()?;
        match self.stream.rm(name) {
            Ok(()) => Ok(()),
            Err(FtpError::UnexpectedResponse(r)) if matches!(reply_code(&r), 450 | 550) => {
                // 550 means "missing" or "not allowed" depending on the server:
                // look whether the file is still there.
                let refused = self.map(Op::Dele(name), FtpError::UnexpectedResponse(r));
                match self.list() {
                    Ok(names) if !names.iter().any(|n| n == name) => Ok(()),
                    _ => Err(refused),
                }
            }
            Err(e) => Err(self.map(Op::Dele(name), e)),
        }
    }

    /// Renames `from` to `to` in the target folder.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        validate_name(from)?;
        validate_name(to)?;
        self.require_target()?;
        self.rename_raw(from, to).1
    }

    /// Says goodbye to the server and closes the connection.
    pub fn quit(mut self) -> Result<(), TransportError> {
        self.stream.quit().map_err(|e| self.map(Op::Quit, e))
    }
}
