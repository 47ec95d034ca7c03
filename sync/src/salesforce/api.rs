//! The low-level client progenitor generates from `openapi/salesforce/openapi.json` (see
//! `build.rs`): one method per operation, the spec's request and answer types in `types`.
//! Crate-private: its token types are the hand-written, crate-private ones of `auth`.
#![allow(missing_docs, unused, private_interfaces, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/salesforce_api.rs"));
