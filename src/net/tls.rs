//! TLS for `security.protocol=ssl|sasl_ssl`: rustls (ring provider), configured from
//! librdkafka's `ssl.*` properties, never OpenSSL.
//!
//! Trust: `ssl.ca.pem` and/or `ssl.ca.location` (a PEM file or a directory of them); without
//! either, or with `ssl.ca.location=probe`, the system's roots (`rustls-native-certs`: the
//! `SSL_CERT_FILE`/`SSL_CERT_DIR` or Debian's `/etc/ssl/certs`). Client certificate:
//! `ssl.certificate.location|pem` with `ssl.key.location|pem` (PKCS#1, SEC1, PKCS#8, and
//! encrypted PKCS#8 with `ssl.key.password`). `enable.ssl.certificate.verification=false`
//! accepts any server certificate (handshake signatures are still checked);
//! `ssl.endpoint.identification.algorithm=none` checks the chain but not the host name;
//! `ssl.crl.location` (PEM) adds revocation lists. OpenSSL-specific tuning (`ssl.cipher.suites`,
//! `ssl.curves.list`, `ssl.sigalgs.list`, engines, providers) is accepted and not applied:
//! rustls' safe defaults are used.
//!
//! A failed handshake is `_SSL` with librdkafka's wording ("SSL handshake failed: ...
//! certificate verify failed ...") so users' log scrapers and searches still match.

use crate::config::Config;
use crate::error::{ErrorCode, KafkaError, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A ready TLS client configuration.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

fn invalid(what: impl std::fmt::Display) -> KafkaError {
    KafkaError::with_message(ErrorCode::INVALID_ARG, what.to_string())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every `CERTIFICATE` block of a PEM text.
fn pem_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| invalid(format!("{what}: failed to parse PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(format!("{what}: no certificates found")));
    }
    Ok(certs)
}

fn read(path: &str, prop: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| invalid(format!("{prop} failed: {path}: {e}")))
}

/// CA certificates from `ssl.ca.location` (file or directory of PEM files).
fn ca_location(path: &str, roots: &mut RootCertStore) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| invalid(format!("ssl.ca.location failed: {path}: {e}")))?;
    let files: Vec<std::path::PathBuf> = if meta.is_dir() {
        let rd = std::fs::read_dir(path)
            .map_err(|e| invalid(format!("ssl.ca.location failed: {path}: {e}")))?;
        rd.filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect()
    } else {
        vec![path.into()]
    };
    let mut added = 0;
    for f in &files {
        let Ok(pem) = std::fs::read(f) else { continue };
        for c in CertificateDer::pem_slice_iter(&pem).flatten() {
            if roots.add(c).is_ok() {
                added += 1;
            }
        }
    }
    if added == 0 {
        return Err(invalid(format!(
            "ssl.ca.location failed: {path}: no CA certificates found"
        )));
    }
    Ok(())
}

/// The system's CA certificates, read once per process: a PHP-FPM worker creating a client
/// per request must not parse `/etc/ssl/certs` every time.
fn system_roots(roots: &mut RootCertStore) -> Result<()> {
    static SYSTEM: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    let certs = SYSTEM.get_or_init(|| rustls_native_certs::load_native_certs().certs);
    let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
    if added == 0 {
        return Err(invalid(
            "ssl.ca.location: no system CA certificates found (install the ca-certificates \
             package or set ssl.ca.location)",
        ));
    }
    Ok(())
}

/// The private key from PEM, decrypting an `ENCRYPTED PRIVATE KEY` with `password`.
fn private_key(pem: &[u8], password: Option<&str>, what: &str) -> Result<PrivateKeyDer<'static>> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let password = password.ok_or_else(|| {
            invalid(format!(
                "{what}: the key is encrypted and ssl.key.password is not set"
            ))
        })?;
        let start = text
            .find("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            .unwrap_or(0);
        let end_tag = "-----END ENCRYPTED PRIVATE KEY-----";
        let end = text[start..]
            .find(end_tag)
            .map(|i| start + i + end_tag.len())
            .ok_or_else(|| invalid(format!("{what}: truncated encrypted key")))?;
        let bad = |e: &dyn std::fmt::Display| {
            invalid(format!("{what}: failed to parse encrypted key: {e}"))
        };
        let (_, der) =
            pkcs8::der::pem::decode_vec(text[start..end].as_bytes()).map_err(|e| bad(&e))?;
        let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| bad(&e))?;
        let doc = enc.decrypt(password).map_err(|_| {
            invalid(format!(
                "{what}: failed to decrypt the key (wrong ssl.key.password?)"
            ))
        })?;
        return Ok(PrivateKeyDer::Pkcs8(doc.as_bytes().to_vec().into()));
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(invalid(format!(
            "{what}: legacy encrypted PEM keys are not supported; convert with \
             `openssl pkcs8 -topk8` (encrypted PKCS#8 works with ssl.key.password)"
        )));
    }
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| invalid(format!("{what}: failed to parse private key: {e}")))
}

impl Tls {
    /// Builds the TLS client configuration from `ssl.*` properties.
    ///
    /// # Errors
    /// `_INVALID_ARG` naming the property when a file cannot be read or parsed, or a
    /// property asks for something rustls does not do (`ssl.keystore.location`, engines).
    pub fn from_config(conf: &Config) -> Result<Tls> {
        let get = |k: &str| conf.get_str(k).filter(|v| !v.is_empty());
        if get("ssl.keystore.location").is_some() {
            return Err(KafkaError::with_message(
                ErrorCode::NOT_IMPLEMENTED,
                "ssl.keystore.location (PKCS#12) is not supported by kafkars: use \
                 ssl.certificate.location and ssl.key.location (PEM)",
            ));
        }
        let verify = conf.get_bool("enable.ssl.certificate.verification");
        let hostname = conf
            .get("ssl.endpoint.identification.algorithm")
            .is_none_or(|v| v == "https");

        let mut roots = RootCertStore::empty();
        let ca_loc = get("ssl.ca.location");
        let ca_pem = get("ssl.ca.pem");
        if let Some(pem) = &ca_pem {
            for c in pem_certs(pem.as_bytes(), "ssl.ca.pem")? {
                roots
                    .add(c)
                    .map_err(|e| invalid(format!("ssl.ca.pem: {e}")))?;
            }
        }
        match ca_loc.as_deref() {
            Some("probe") => system_roots(&mut roots)?,
            Some(path) => ca_location(path, &mut roots)?,
            None if ca_pem.is_none() && verify => system_roots(&mut roots)?,
            None => {}
        }

        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("TLS setup failed: {e}")))?;
        let verifier: Arc<dyn ServerCertVerifier> = if !verify {
            Arc::new(AcceptAny(provider()))
        } else {
            let mut builder =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider());
            if let Some(path) = get("ssl.crl.location") {
                let pem = read(&path, "ssl.crl.location")?;
                let crls: Vec<CertificateRevocationListDer<'static>> =
                    CertificateRevocationListDer::pem_slice_iter(&pem)
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|e| invalid(format!("ssl.crl.location: {path}: {e}")))?;
                if crls.is_empty() {
                    return Err(invalid(format!("ssl.crl.location: {path}: no CRL found")));
                }
                builder = builder.with_crls(crls);
            }
            let webpki = builder
                .build()
                .map_err(|e| invalid(format!("ssl.ca.location: {e}")))?;
            if hostname {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);

        let cert = match (get("ssl.certificate.pem"), get("ssl.certificate.location")) {
            (Some(pem), _) => Some(pem_certs(pem.as_bytes(), "ssl.certificate.pem")?),
            (None, Some(path)) => Some(pem_certs(
                &read(&path, "ssl.certificate.location")?,
                "ssl.certificate.location",
            )?),
            (None, None) => None,
        };
        let password = get("ssl.key.password");
        let key = match (get("ssl.key.pem"), get("ssl.key.location")) {
            (Some(pem), _) => Some(private_key(
                pem.as_bytes(),
                password.as_deref(),
                "ssl.key.pem",
            )?),
            (None, Some(path)) => Some(private_key(
                &read(&path, "ssl.key.location")?,
                password.as_deref(),
                "ssl.key.location",
            )?),
            (None, None) => None,
        };
        let config = match (cert, key) {
            (Some(cert), Some(key)) => builder.with_client_auth_cert(cert, key).map_err(|e| {
                invalid(format!("ssl.key.location: client certificate and key: {e}"))
            })?,
            (None, None) => builder.with_no_client_auth(),
            (Some(_), None) => {
                return Err(invalid(
                    "ssl.certificate.location is set but ssl.key.location/ssl.key.pem is not",
                ))
            }
            (None, Some(_)) => return Err(invalid(
                "ssl.key.location is set but ssl.certificate.location/ssl.certificate.pem is not",
            )),
        };
        Ok(Tls {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }

    /// Runs the TLS handshake over `tcp` to `addr` (`host:port`).
    ///
    /// # Errors
    /// `_SSL` with the reason (certificate verify failed, host name mismatch, alert from the
    /// broker), `_TRANSPORT` when the broker closes the connection during the handshake.
    pub async fn handshake(&self, addr: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>> {
        let host = host_of(addr);
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| invalid(format!("{addr}: invalid TLS server name \"{host}\": {e}")))?;
        self.connector
            .connect(name, tcp)
            .await
            .map_err(|e| handshake_error(addr, &e))
    }
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// librdkafka-style text for a failed handshake.
fn handshake_error(addr: &str, e: &std::io::Error) -> KafkaError {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let Some(tls) = inner else {
        return KafkaError::with_message(
            ErrorCode::TRANSPORT,
            format!("{addr}: SSL handshake failed: Disconnected: {e} (is this a TLS listener?)"),
        );
    };
    let reason = match tls {
        rustls::Error::InvalidCertificate(c) => {
            let what = match c {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    format!(
                        "certificate verify failed: {c}: the broker's certificate does not \
                         match host \"{}\" (ssl.endpoint.identification.algorithm=none turns \
                         this check off)",
                        host_of(addr)
                    )
                }
                _ => format!(
                    "certificate verify failed: {c}: broker certificate could not be \
                     verified, verify that ssl.ca.location is correctly configured or root \
                     CA certificates are installed"
                ),
            };
            what
        }
        other => other.to_string(),
    };
    KafkaError::with_message(
        ErrorCode::SSL,
        format!("{addr}: SSL handshake failed: {reason}"),
    )
}

/// `ssl.endpoint.identification.algorithm=none`: the chain must verify, the name need not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain is good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `enable.ssl.certificate.verification=false`: any certificate; signatures still checked.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts() {
        assert_eq!(host_of("localhost:9093"), "localhost");
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("broker"), "broker");
    }

    #[test]
    fn bad_files_are_config_errors() {
        let mut c = Config::new();
        c.set("ssl.ca.location", "/nonexistent/ca.pem").unwrap();
        let e = Tls::from_config(&c).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_ARG);
        assert!(e.message.contains("ssl.ca.location"), "{}", e.message);

        let mut c = Config::new();
        c.set("ssl.crl.location", "/nonexistent/crl.pem").unwrap();
        let e = Tls::from_config(&c).unwrap_err();
        assert!(e.message.contains("ssl.crl.location"), "{}", e.message);

        let mut c = Config::new();
        c.set("ssl.ca.pem", "not a pem").unwrap();
        assert!(Tls::from_config(&c).is_err());

        let mut c = Config::new();
        c.set("enable.ssl.certificate.verification", "false")
            .unwrap();
        c.set(
            "ssl.key.pem",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(Tls::from_config(&c).is_err());
    }

    #[test]
    fn system_roots_with_probe_and_by_default() {
        if !std::path::Path::new("/etc/ssl/certs").is_dir() {
            return; // no ca-certificates on this machine
        }
        let mut c = Config::new();
        c.set("ssl.ca.location", "probe").unwrap();
        assert!(Tls::from_config(&c).is_ok());
        assert!(Tls::from_config(&Config::new()).is_ok());
    }

    #[test]
    fn no_verification_needs_no_roots() {
        let mut c = Config::new();
        c.set("enable.ssl.certificate.verification", "false")
            .unwrap();
        assert!(Tls::from_config(&c).is_ok());
    }
}
