//! The embedded server's storage: [`ReadOnlyFs`], the file system back end
//! with every write refused and temporary upload names hidden.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use unftp_core::auth::DefaultUser;
use unftp_core::storage::{self, ErrorKind, Fileinfo, Metadata, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};

use crate::store::is_temp_name;

/// The file system back end with every write refused: tills only read.
/// Temporary upload names of the share folder are hidden from listings.
#[derive(Debug)]
pub(super) struct ReadOnlyFs {
    inner: Option<Filesystem>,
}

impl ReadOnlyFs {
    pub(super) fn open(root: &Path) -> Self {
        match Filesystem::new(root.to_path_buf()) {
            Ok(fs) => ReadOnlyFs { inner: Some(fs) },
            Err(e) => {
                tracing::error!(root = %root.display(), error = %e, "embedded FTP: cannot open the folder");
                ReadOnlyFs { inner: None }
            }
        }
    }

    fn fs(&self) -> storage::Result<&Filesystem> {
        self.inner
            .as_ref()
            .ok_or_else(|| storage::Error::from(ErrorKind::LocalError))
    }
}

fn read_only<T>() -> storage::Result<T> {
    Err(storage::Error::from(ErrorKind::PermissionDenied))
}

#[async_trait]
impl StorageBackend<DefaultUser> for ReadOnlyFs {
    type Metadata = Meta;

    fn enter(&mut self, user_detail: &DefaultUser) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(fs) => StorageBackend::<DefaultUser>::enter(fs, user_detail),
            None => Ok(()),
        }
    }

    fn supported_features(&self) -> u32 {
        storage::FEATURE_RESTART
    }

    async fn metadata<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Self::Metadata> {
        self.fs()?.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Self::Metadata>>>
    where
        <Self as StorageBackend<DefaultUser>>::Metadata: Metadata,
    {
        let mut entries = self.fs()?.list(user, path).await?;
        entries.retain(|fi| {
            !fi.path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_temp_name)
        });
        Ok(entries)
    }

    async fn get<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        self.fs()?.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + fmt::Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        _user: &DefaultUser,
        _input: R,
        _path: P,
        _start_pos: u64,
    ) -> storage::Result<u64> {
        read_only()
    }

    async fn del<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn mkd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn rename<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _from: P,
        _to: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn rmd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn cwd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs()?.cwd(user, path).await
    }
}
