//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses them (KIP-84): no
//! channel binding (`n,,`), the user name escaped (`=` → `=3D`, `,` → `=2C`).
//!
//! ```text
//! client-first   n,,n=USER,r=CNONCE
//! server-first   r=CNONCE+SNONCE,s=SALT(base64),i=ITERATIONS
//! client-final   c=biws,r=CNONCE+SNONCE,p=PROOF(base64)
//! server-final   v=SERVER_SIGNATURE(base64)   or   e=ERROR
//! ```
//! The crypto is the `hmac`/`sha2`/`pbkdf2` crates'; this file only composes it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

/// Largest iteration count accepted from a server (Kafka caps it at 16384); a hostile
/// server must not make the client spin for minutes.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash of the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

/// Why a SCRAM exchange failed on the client side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScramError {
    /// The server's message does not parse.
    #[error("invalid SCRAM server message: {0}")]
    Malformed(&'static str),
    /// The server's nonce does not extend ours.
    #[error("SCRAM server nonce does not start with the client nonce")]
    NonceMismatch,
    /// Iteration count out of range.
    #[error("SCRAM iteration count {0} out of range (1..={MAX_ITERATIONS})")]
    Iterations(u64),
    /// The server reported an error (`e=...`).
    #[error("SCRAM server error: {0}")]
    Server(String),
    /// The server's signature is wrong: it does not know the password.
    #[error("SCRAM server signature mismatch (the broker could not prove it knows the password)")]
    ServerSignature,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes any key");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
            ScramHash::Sha512 => {
                let mut out = vec![0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// `saslname` escaping of RFC 5802 section 5.1.
fn escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// One SCRAM exchange, client side.
#[derive(Debug)]
pub struct Scram {
    hash: ScramHash,
    password: String,
    client_first_bare: String,
    nonce: String,
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    /// A new exchange with a random client nonce.
    pub fn new(hash: ScramHash, user: &str, password: &str) -> Scram {
        use rand::Rng;
        let bytes: [u8; 24] = rand::thread_rng().gen();
        Self::with_nonce(hash, user, password, &B64.encode(bytes))
    }

    /// A new exchange with a given nonce (tests use RFC 7677's vectors).
    pub fn with_nonce(hash: ScramHash, user: &str, password: &str, nonce: &str) -> Scram {
        Scram {
            hash,
            password: password.to_string(),
            client_first_bare: format!("n={},r={nonce}", escape(user)),
            nonce: nonce.to_string(),
            server_signature: None,
        }
    }

    /// `client-first-message`.
    pub fn client_first(&self) -> Vec<u8> {
        format!("n,,{}", self.client_first_bare).into_bytes()
    }

    /// `client-final-message` for the server's first message.
    ///
    /// # Errors
    /// A malformed message, a nonce that does not extend ours, an iteration count out of range.
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, ScramError> {
        let text =
            std::str::from_utf8(server_first).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        let (mut nonce, mut salt, mut iterations) = (None, None, None);
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("e", v)) => return Err(ScramError::Server(v.to_string())),
                Some(("m", _)) => return Err(ScramError::Malformed("mandatory extension")),
                _ => {}
            }
        }
        let nonce = nonce.ok_or(ScramError::Malformed("no nonce"))?;
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        let salt = B64
            .decode(salt.ok_or(ScramError::Malformed("no salt"))?)
            .map_err(|_| ScramError::Malformed("salt is not base64"))?;
        let iterations: u64 = iterations
            .ok_or(ScramError::Malformed("no iteration count"))?
            .parse()
            .map_err(|_| ScramError::Malformed("iteration count is not a number"))?;
        if iterations == 0 || iterations > u64::from(MAX_ITERATIONS) {
            return Err(ScramError::Iterations(iterations));
        }
        let h = self.hash;
        let salted = h.salted_password(self.password.as_bytes(), &salt, iterations as u32);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.hash(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = h.hmac(&salted, b"Server Key");
        self.server_signature = Some(h.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server's final message (`v=` must be the expected server signature).
    ///
    /// # Errors
    /// `e=` from the server, a wrong or missing signature.
    pub fn verify_server_final(&self, server_final: &[u8]) -> Result<(), ScramError> {
        let text =
            std::str::from_utf8(server_final).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("e", v)) => return Err(ScramError::Server(v.to_string())),
                Some(("v", v)) => {
                    let sig = B64
                        .decode(v)
                        .map_err(|_| ScramError::Malformed("signature is not base64"))?;
                    return if Some(&sig) == self.server_signature.as_ref() {
                        Ok(())
                    } else {
                        Err(ScramError::ServerSignature)
                    };
                }
                _ => {}
            }
        }
        Err(ScramError::Malformed("no server signature"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example exchange for SCRAM-SHA-256.
    #[test]
    fn rfc7677_sha256_vector() {
        let mut s = Scram::with_nonce(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(s.client_first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let fin = s.client_final(server_first).unwrap();
        assert_eq!(
            String::from_utf8(fin).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        s.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert_eq!(
            s.verify_server_final(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Err(ScramError::ServerSignature)
        );
        assert_eq!(
            s.verify_server_final(b"e=invalid-proof"),
            Err(ScramError::Server("invalid-proof".into()))
        );
    }

    #[test]
    fn hostile_server_messages_are_errors() {
        let mut s = Scram::with_nonce(ScramHash::Sha512, "a=b,c", "pw", "abc");
        assert_eq!(s.client_first(), b"n,,n=a=3Db=2Cc,r=abc");
        for bad in [
            &b""[..],
            b"r=xyz,s=AAAA,i=4096",
            b"r=abc,s=AAAA,i=4096",
            b"r=abcd,s=!!!,i=4096",
            b"r=abcd,s=AAAA,i=0",
            b"r=abcd,s=AAAA,i=99999999999",
            b"r=abcd,s=AAAA,i=x",
            b"r=abcd,s=AAAA",
            b"\xff\xfe",
            b"e=other-error",
        ] {
            assert!(s.client_final(bad).is_err(), "{bad:?}");
        }
        assert!(s.client_final(b"r=abcd,s=AAAA,i=4096").is_ok());
        assert!(s.verify_server_final(b"x=1").is_err());
    }
}
