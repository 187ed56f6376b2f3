//! serde adapters for typed fields stored as text in the configuration
//! files: socket addresses, FTP addresses and http(s) URLs (for
//! `#[serde(with = "…")]`).

pub(crate) mod socket_serde {
    use std::net::SocketAddr;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::config::validate::socket_reason;

    pub fn serialize<S: Serializer>(v: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
        let text = String::deserialize(d)?;
        text.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("invalid address {text:?}: {}", socket_reason()))
        })
    }
}

pub(crate) mod ftp_address_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::ftp_address::FtpAddress;

    pub fn serialize<S: Serializer>(v: &FtpAddress, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FtpAddress, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) mod http_url_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use url::Url;

    use crate::config::validate::parse_http_url;

    pub fn serialize<S: Serializer>(v: &Url, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
        let text = String::deserialize(d)?;
        parse_http_url("webservice_url", &text).map_err(serde::de::Error::custom)
    }
}
