//! JWT bearer assertions (RS256): reading the connected app's public key from PEM and
//! checking an assertion's signature and claims.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::Value as Json;

/// An RSA public key in the PKCS#1 `RSAPublicKey` DER form ring verifies with.
#[derive(Debug, Clone)]
pub(crate) struct PublicKey(Vec<u8>);

/// Why a key or an assertion is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwtError {
    /// The PEM text has no block we can read.
    #[error("the JWT public key is not PEM: {0}")]
    Pem(String),
    /// The key's DER structure is not what its PEM label says.
    #[error("the JWT public key is not a readable RSA key: {0}")]
    Der(&'static str),
    /// The assertion is not `header.payload.signature` in base64url JSON.
    #[error("malformed assertion: {0}")]
    Malformed(String),
    /// The header names another algorithm than RS256.
    #[error("assertion algorithm {0} is not RS256")]
    Algorithm(String),
    /// The signature does not verify against the key.
    #[error("assertion signature does not verify against the configured public key")]
    Signature,
}

impl PublicKey {
    /// Reads a `PUBLIC KEY` (SubjectPublicKeyInfo), `RSA PUBLIC KEY` (PKCS#1) or
    /// `CERTIFICATE` (X.509, as uploaded to a connected app) PEM block.
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let (label, der) = pem_block(pem)?;
        match label.as_str() {
            "RSA PUBLIC KEY" => Ok(Self(der)),
            "PUBLIC KEY" => Ok(Self(spki_key(&der)?)),
            "CERTIFICATE" => {
                let certificate = Der::new(&der).sequence()?;
                let tbs = Der::new(certificate).sequence()?;
                let mut fields = Der::new(tbs);
                if fields.peek_tag() == Some(0xa0) {
                    fields.skip()?;
                }
                for _ in 0..5 {
                    fields.skip()?; // serial, signature, issuer, validity, subject
                }
                let spki = fields.element()?;
                Ok(Self(spki_key(spki)?))
            }
            other => Err(JwtError::Pem(format!(
                "expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE, found {other}"
            ))),
        }
    }
}

/// The label and decoded body of the first PEM block.
fn pem_block(pem: &str) -> Result<(String, Vec<u8>), JwtError> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or_else(|| JwtError::Pem("no -----BEGIN line".to_owned()))?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| JwtError::Pem("unterminated BEGIN line".to_owned()))?;
    let label = rest[..label_end].to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = rest
        .find(&end_marker)
        .ok_or_else(|| JwtError::Pem(format!("no {end_marker} line")))?;
    let body: String = rest[body_start..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|error| JwtError::Pem(format!("bad base64 in the {label} block: {error}")))?;
    Ok((label, der))
}

/// The `RSAPublicKey` inside a SubjectPublicKeyInfo.
fn spki_key(spki: &[u8]) -> Result<Vec<u8>, JwtError> {
    let mut info = Der::new(Der::new(spki).sequence()?);
    info.skip()?; // algorithm
    let bits = info.take(0x03)?;
    match bits.split_first() {
        Some((0, key)) => Ok(key.to_vec()),
        _ => Err(JwtError::Der("subjectPublicKey has unused bits")),
    }
}

/// A minimal DER reader: tag, length, contents.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: (tag, contents, whole encoding).
    fn next(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), JwtError> {
        let short = JwtError::Der("truncated DER element");
        let (&tag, after_tag) = self.rest.split_first().ok_or(short.clone())?;
        let (&first, after_len) = after_tag.split_first().ok_or(short.clone())?;
        let (length, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 || after_len.len() < count {
                return Err(JwtError::Der("unsupported DER length"));
            }
            let length = after_len[..count]
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, 2 + count)
        };
        let total = header + length;
        if self.rest.len() < total {
            return Err(short);
        }
        let whole = &self.rest[..total];
        let contents = &self.rest[header..total];
        self.rest = &self.rest[total..];
        Ok((tag, contents, whole))
    }

    fn take(&mut self, tag: u8) -> Result<&'a [u8], JwtError> {
        match self.next()? {
            (found, contents, _) if found == tag => Ok(contents),
            _ => Err(JwtError::Der("unexpected DER tag")),
        }
    }

    fn sequence(&mut self) -> Result<&'a [u8], JwtError> {
        self.take(0x30)
    }

    fn skip(&mut self) -> Result<(), JwtError> {
        self.next().map(|_| ())
    }

    /// The whole encoding of the next element.
    fn element(&mut self) -> Result<&'a [u8], JwtError> {
        self.next().map(|(_, _, whole)| whole)
    }
}

/// Decodes an assertion's claims, checking the RS256 signature when `key` is given.
pub(crate) fn verify(assertion: &str, key: Option<&PublicKey>) -> Result<Json, JwtError> {
    let parts: Vec<&str> = assertion.trim().split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(JwtError::Malformed(format!(
            "expected 3 dot-separated parts, found {}",
            parts.len()
        )));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|error| JwtError::Malformed(format!("{what} is not base64url: {error}")))
    };
    let header_json: Json = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|error| JwtError::Malformed(format!("header is not JSON: {error}")))?;
    let algorithm = header_json["alg"].as_str().unwrap_or("none");
    if algorithm != "RS256" {
        return Err(JwtError::Algorithm(algorithm.to_owned()));
    }
    if let Some(key) = key {
        let signature = decode(signature, "signature")?;
        let signed = format!("{header}.{payload}");
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.0)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| JwtError::Signature)?;
    }
    serde_json::from_slice(&decode(payload, "payload")?)
        .map_err(|error| JwtError::Malformed(format!("payload is not JSON: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    const PUBLIC: &str = include_str!("../keys/jwt-test.pub.pem");
    const PRIVATE: &str = include_str!("../keys/jwt-test.key.pem");
    const CERTIFICATE: &str = include_str!("../keys/jwt-test.crt.pem");

    fn sign(header: &str, claims: &str) -> String {
        let (_, der) = pem_block(PRIVATE).unwrap();
        let pair = RsaKeyPair::from_pkcs8(&der).unwrap();
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn verifies_rs256() {
        let key = PublicKey::from_pem(PUBLIC).unwrap();
        let token = sign(r#"{"alg":"RS256"}"#, r#"{"iss":"app","sub":"u"}"#);
        let claims = verify(&token, Some(&key)).unwrap();
        assert_eq!(claims["iss"], "app");
        let (head, _) = token.rsplit_once('.').unwrap();
        let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]));
        assert_eq!(
            verify(&forged, Some(&key)).unwrap_err(),
            JwtError::Signature
        );
        let tampered = token.replacen(
            &URL_SAFE_NO_PAD.encode(r#"{"iss":"app","sub":"u"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"iss":"app","sub":"admin"}"#),
            1,
        );
        assert_eq!(
            verify(&tampered, Some(&key)).unwrap_err(),
            JwtError::Signature
        );
        let from_certificate = PublicKey::from_pem(CERTIFICATE).unwrap();
        assert_eq!(from_certificate.0, key.0);
        verify(&token, Some(&from_certificate)).unwrap();
    }

    #[test]
    fn rejects_other_algorithms_and_garbage() {
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(
            verify(&unsigned, None).unwrap_err(),
            JwtError::Algorithm("none".into())
        );
        assert!(matches!(verify("a.b", None), Err(JwtError::Malformed(_))));
        assert!(matches!(PublicKey::from_pem("nope"), Err(JwtError::Pem(_))));
        assert!(matches!(
            PublicKey::from_pem(PRIVATE),
            Err(JwtError::Pem(message)) if message.contains("PRIVATE KEY")
        ));
    }
}
