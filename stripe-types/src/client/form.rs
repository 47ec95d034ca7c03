//! `application/x-www-form-urlencoded` encoding in Stripe's bracket notation.
//!
//! The output is byte for byte what Stripe's official Node library (stripe-node,
//! `qs.stringify` with its defaults) sends, and matches stripe-python except where
//! noted:
//!
//! - nested objects and maps: `metadata[plan]=gold`;
//! - arrays are indexed, also arrays of scalars: `expand[0]=customer`,
//!   `line_items[0][price]=price_1` (stripe-python does the same);
//! - square brackets stay literal, in keys and in values; every other byte outside
//!   RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is percent-encoded as UTF-8
//!   with upper-case hex, so a space is `%20` (stripe-python sends `+`, which Stripe
//!   reads the same way);
//! - `None` (and unit, `serde_json::Value::Null`) is omitted, as are empty arrays
//!   and empty maps; an empty string is sent as `key=`, which unsets a field;
//! - booleans are `true` / `false`; unit enum variants are their serde name;
//!   newtype and struct enum variants nest under the variant name like JSON's
//!   externally tagged form (`key[variant]=...`);
//! - fields keep their serialization order; map entries keep the map's iteration
//!   order (use a `BTreeMap` for a stable order).
//!
//! The top-level value must be a struct or a map (or `None`/unit: nothing to send).

use std::fmt::Display;

use serde::ser::{self, Serialize};

/// A value that cannot be written as Stripe form parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot form-encode {}: {reason}", describe_key(.key))]
pub struct EncodeError {
    key: String,
    reason: String,
}

fn describe_key(key: &str) -> String {
    if key.is_empty() {
        "the parameters".to_owned()
    } else {
        format!("`{key}`")
    }
}

impl EncodeError {
    fn new(key: Option<&str>, reason: impl Display) -> Self {
        Self {
            key: key.unwrap_or_default().to_owned(),
            reason: reason.to_string(),
        }
    }

    /// Fills in the key where the error came from a nested `Serialize` impl.
    fn at(mut self, key: &str) -> Self {
        if self.key.is_empty() {
            key.clone_into(&mut self.key);
        }
        self
    }

    /// The bracket-notation key of the value that failed (empty for the top level).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Why the value could not be encoded.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl ser::Error for EncodeError {
    fn custom<T: Display>(msg: T) -> Self {
        Self::new(None, msg)
    }
}

/// Flattens `value` into `(key, value)` pairs in bracket notation, not yet percent-encoded.
pub fn to_pairs<T: Serialize + ?Sized>(value: &T) -> Result<Vec<(String, String)>, EncodeError> {
    let mut out = Vec::new();
    value.serialize(ValueSerializer {
        out: &mut out,
        key: None,
    })?;
    Ok(out)
}

/// Encodes `value` as a form body or query string (without a leading `?`).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<String, EncodeError> {
    Ok(join(&to_pairs(value)?))
}

/// Percent-encodes and joins pairs as `k1=v1&k2=v2`.
pub fn join(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        escape_into(key, &mut out, true);
        out.push('=');
        escape_into(value, &mut out, true);
    }
    out
}

/// Percent-encodes one path segment (an object id), leaving only unreserved characters.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    escape_into(segment, &mut out, false);
    out
}

/// Appends `expand[N]=...` pairs, numbered after any `expand[N]` already present.
pub(crate) fn append_expand(pairs: &mut Vec<(String, String)>, expand: &[String]) {
    let next = pairs
        .iter()
        .filter_map(|(key, _)| {
            key.strip_prefix("expand[")?
                .strip_suffix(']')?
                .parse::<usize>()
                .ok()
        })
        .map(|index| index + 1)
        .max()
        .unwrap_or(0);
    for (offset, path) in expand.iter().enumerate() {
        pairs.push((format!("expand[{}]", next + offset), path.clone()));
    }
}

fn escape_into(text: &str, out: &mut String, keep_brackets: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            b'[' | b']' if keep_brackets => out.push(char::from(byte)),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            }
        }
    }
}

fn child(parent: Option<&str>, sub: &str) -> String {
    match parent {
        None => sub.to_owned(),
        Some(parent) => format!("{parent}[{sub}]"),
    }
}

/// Serializes one value under `key` (`None` at the top level).
struct ValueSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    key: Option<String>,
}

impl<'a> ValueSerializer<'a> {
    fn scalar(self, value: String) -> Result<(), EncodeError> {
        match self.key {
            Some(key) => {
                self.out.push((key, value));
                Ok(())
            }
            None => Err(EncodeError::new(
                None,
                "the top-level value must be a struct or a map, not a scalar",
            )),
        }
    }

    fn float(self, value: f64, text: String) -> Result<(), EncodeError> {
        if value.is_finite() {
            self.scalar(text)
        } else {
            Err(EncodeError::new(
                self.key.as_deref(),
                format!("{value} is not a finite number"),
            ))
        }
    }

    fn seq(self) -> Result<SeqSerializer<'a>, EncodeError> {
        match self.key {
            Some(key) => Ok(SeqSerializer {
                out: self.out,
                key,
                index: 0,
            }),
            None => Err(EncodeError::new(
                None,
                "the top-level value must be a struct or a map, not a sequence",
            )),
        }
    }
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = SeqSerializer<'a>;
    type SerializeTuple = SeqSerializer<'a>;
    type SerializeTupleStruct = SeqSerializer<'a>;
    type SerializeTupleVariant = SeqSerializer<'a>;
    type SerializeMap = MapSerializer<'a>;
    type SerializeStruct = MapSerializer<'a>;
    type SerializeStructVariant = MapSerializer<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.scalar(if v { "true" } else { "false" }.to_owned())
    }
    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.float(f64::from(v), v.to_string())
    }
    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.float(v, v.to_string())
    }
    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.scalar(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.scalar(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), EncodeError> {
        Err(EncodeError::new(
            self.key.as_deref(),
            "raw bytes have no form encoding; send a string",
        ))
    }
    fn serialize_none(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.scalar(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        let key = child(self.key.as_deref(), variant);
        value
            .serialize(ValueSerializer {
                out: self.out,
                key: Some(key.clone()),
            })
            .map_err(|e| e.at(&key))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqSerializer<'a>, EncodeError> {
        self.seq()
    }
    fn serialize_tuple(self, _len: usize) -> Result<SeqSerializer<'a>, EncodeError> {
        self.seq()
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<SeqSerializer<'a>, EncodeError> {
        self.seq()
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SeqSerializer<'a>, EncodeError> {
        Ok(SeqSerializer {
            key: child(self.key.as_deref(), variant),
            out: self.out,
            index: 0,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer<'a>, EncodeError> {
        Ok(MapSerializer {
            out: self.out,
            key: self.key,
            pending: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<MapSerializer<'a>, EncodeError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapSerializer<'a>, EncodeError> {
        Ok(MapSerializer {
            key: Some(child(self.key.as_deref(), variant)),
            out: self.out,
            pending: None,
        })
    }
}

/// Writes sequence elements as `key[0]`, `key[1]`, ...
struct SeqSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    key: String,
    index: usize,
}

impl SeqSerializer<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let key = format!("{}[{}]", self.key, self.index);
        self.index += 1;
        value
            .serialize(ValueSerializer {
                out: self.out,
                key: Some(key.clone()),
            })
            .map_err(|e| e.at(&key))
    }
}

impl ser::SerializeSeq for SeqSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl ser::SerializeTuple for SeqSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for SeqSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for SeqSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// Writes struct fields and map entries as `key[name]` (bare `name` at the top level).
struct MapSerializer<'a> {
    out: &'a mut Vec<(String, String)>,
    key: Option<String>,
    pending: Option<String>,
}

impl MapSerializer<'_> {
    fn entry<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), EncodeError> {
        let key = child(self.key.as_deref(), name);
        value
            .serialize(ValueSerializer {
                out: self.out,
                key: Some(key.clone()),
            })
            .map_err(|e| e.at(&key))
    }
}

impl ser::SerializeMap for MapSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let name = key
            .serialize(KeySerializer)
            .map_err(|e| e.at(self.key.as_deref().unwrap_or_default()))?;
        self.pending = Some(name);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let name = self.pending.take().ok_or_else(|| {
            EncodeError::new(self.key.as_deref(), "map value serialized before its key")
        })?;
        self.entry(&name, value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl ser::SerializeStruct for MapSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.entry(name, value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for MapSerializer<'_> {
    type Ok = ();
    type Error = EncodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.entry(name, value)
    }
    fn end(self) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// Turns a map key into the text between the brackets.
struct KeySerializer;

fn bad_key() -> EncodeError {
    EncodeError::new(
        None,
        "a map key must be a string, a number or a unit enum variant",
    )
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = EncodeError;
    type SerializeSeq = ser::Impossible<String, EncodeError>;
    type SerializeTuple = ser::Impossible<String, EncodeError>;
    type SerializeTupleStruct = ser::Impossible<String, EncodeError>;
    type SerializeTupleVariant = ser::Impossible<String, EncodeError>;
    type SerializeMap = ser::Impossible<String, EncodeError>;
    type SerializeStruct = ser::Impossible<String, EncodeError>;
    type SerializeStructVariant = ser::Impossible<String, EncodeError>;

    fn serialize_bool(self, v: bool) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_char(self, v: char) -> Result<String, EncodeError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, EncodeError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_none(self) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, EncodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, EncodeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, EncodeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, EncodeError> {
        Err(bad_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(bad_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(bad_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(bad_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(bad_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(bad_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Err(bad_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(bad_key())
    }
}

#[cfg(test)]
mod tests {
    //! Expected strings were produced by stripe-node 11.18.0's `stringifyRequestData`
    //! (qs 6) on the equivalent JavaScript objects.

    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_map_with_escaping_and_empty_value() {
        // Keys in sorted order, so the result is the same whether or not serde_json's
        // `preserve_order` feature is on (stripe-node keeps insertion order).
        let params = json!({"metadata": {"empty": "", "my key": "a b&c=d", "plan": "gold"}});
        assert_eq!(
            encode(&params).unwrap(),
            "metadata[empty]=&metadata[my%20key]=a%20b%26c%3Dd&metadata[plan]=gold"
        );
    }

    #[derive(Serialize)]
    struct ProductData<'a> {
        name: &'a str,
    }

    #[derive(Serialize)]
    struct PriceData<'a> {
        currency: &'a str,
        unit_amount: i64,
        product_data: ProductData<'a>,
    }

    #[derive(Serialize)]
    struct LineItem<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        price: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        price_data: Option<PriceData<'a>>,
        quantity: u64,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Payment,
        #[allow(dead_code)]
        Subscription,
    }

    #[derive(Serialize)]
    struct SessionCreate<'a> {
        mode: Mode,
        line_items: Vec<LineItem<'a>>,
        success_url: &'a str,
        customer: Option<&'a str>,
    }

    #[test]
    fn arrays_of_nested_objects_enums_and_skipped_none() {
        let params = SessionCreate {
            mode: Mode::Payment,
            line_items: vec![
                LineItem {
                    price: Some("price_1"),
                    price_data: None,
                    quantity: 2,
                },
                LineItem {
                    price: None,
                    price_data: Some(PriceData {
                        currency: "usd",
                        unit_amount: 1500,
                        product_data: ProductData { name: "T-shirt" },
                    }),
                    quantity: 1,
                },
            ],
            success_url: "https://example.com/success?session_id={CHECKOUT_SESSION_ID}",
            customer: None,
        };
        assert_eq!(
            encode(&params).unwrap(),
            "mode=payment&line_items[0][price]=price_1&line_items[0][quantity]=2\
             &line_items[1][price_data][currency]=usd\
             &line_items[1][price_data][unit_amount]=1500\
             &line_items[1][price_data][product_data][name]=T-shirt\
             &line_items[1][quantity]=1\
             &success_url=https%3A%2F%2Fexample.com%2Fsuccess%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
        );
    }

    #[test]
    fn scalar_arrays_are_indexed() {
        #[derive(Serialize)]
        struct Retrieve {
            expand: Vec<&'static str>,
        }
        let params = Retrieve {
            expand: vec!["customer", "invoice.subscription"],
        };
        assert_eq!(
            encode(&params).unwrap(),
            "expand[0]=customer&expand[1]=invoice.subscription"
        );
    }

    #[test]
    fn booleans_are_true_and_false() {
        #[derive(Serialize)]
        struct Flags {
            livemode: bool,
            off: bool,
        }
        let params = Flags {
            livemode: true,
            off: false,
        };
        assert_eq!(encode(&params).unwrap(), "livemode=true&off=false");
    }

    #[test]
    fn none_empty_collections_and_null_are_omitted_but_empty_string_is_kept() {
        #[derive(Serialize)]
        struct Update {
            a: Option<String>,
            c: String,
            d: Vec<String>,
            e: BTreeMap<String, String>,
            f: (),
            g: serde_json::Value,
            h: Option<Option<String>>,
        }
        let params = Update {
            a: None,
            c: String::new(),
            d: vec![],
            e: BTreeMap::new(),
            f: (),
            g: serde_json::Value::Null,
            h: Some(Some(String::new())),
        };
        assert_eq!(encode(&params).unwrap(), "c=&h=");
    }

    #[test]
    fn unicode_and_reserved_characters() {
        let params = json!({"name": "Zoë ✓ 😀", "s": "!'()*~._-", "v": "x[y]"});
        assert_eq!(
            encode(&params).unwrap(),
            "name=Zo%C3%AB%20%E2%9C%93%20%F0%9F%98%80&s=%21%27%28%29%2A~._-&v=x[y]"
        );
    }

    #[test]
    fn nested_arrays_and_numbers() {
        let params = json!({"a": [[1, 2], [3]], "n": -7, "x": 1.0, "y": 1.5, "z": 0.1});
        assert_eq!(
            encode(&params).unwrap(),
            "a[0][0]=1&a[0][1]=2&a[1][0]=3&n=-7&x=1&y=1.5&z=0.1"
        );
    }

    #[test]
    fn struct_field_order_and_maps_with_struct_values() {
        #[derive(Serialize)]
        struct Tier {
            up_to: &'static str,
            unit_amount: u32,
        }
        #[derive(Serialize)]
        struct Params {
            metadata: BTreeMap<&'static str, &'static str>,
            tiers: Vec<Tier>,
            by_name: BTreeMap<&'static str, Tier>,
        }
        let params = Params {
            metadata: BTreeMap::from([("z", "1"), ("a", "2")]),
            tiers: vec![Tier {
                up_to: "inf",
                unit_amount: 5,
            }],
            by_name: BTreeMap::from([(
                "gold",
                Tier {
                    up_to: "10",
                    unit_amount: 9,
                },
            )]),
        };
        assert_eq!(
            encode(&params).unwrap(),
            "metadata[a]=2&metadata[z]=1&tiers[0][up_to]=inf&tiers[0][unit_amount]=5\
             &by_name[gold][up_to]=10&by_name[gold][unit_amount]=9"
        );
    }

    #[test]
    fn enums_untagged_tagged_and_flattened() {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum OrEmpty {
            Value(u32),
            Empty(&'static str),
        }
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Anchor {
            Now,
            At { timestamp: i64 },
            Ids(Vec<&'static str>),
        }
        #[derive(Serialize)]
        struct Common {
            limit: u8,
        }
        #[derive(Serialize)]
        struct Params {
            trial_end: OrEmpty,
            days: OrEmpty,
            a: Anchor,
            b: Anchor,
            c: Anchor,
            #[serde(flatten)]
            common: Common,
        }
        let params = Params {
            trial_end: OrEmpty::Empty(""),
            days: OrEmpty::Value(30),
            a: Anchor::Now,
            b: Anchor::At { timestamp: 1 },
            c: Anchor::Ids(vec!["x"]),
            common: Common { limit: 3 },
        };
        assert_eq!(
            encode(&params).unwrap(),
            "trial_end=&days=30&a=now&b[at][timestamp]=1&c[ids][0]=x&limit=3"
        );
    }

    #[test]
    fn top_level_map_and_empty_params() {
        let map = BTreeMap::from([("email", "a+b@example.com")]);
        assert_eq!(encode(&map).unwrap(), "email=a%2Bb%40example.com");
        assert_eq!(encode(&()).unwrap(), "");
        assert_eq!(encode(&None::<BTreeMap<String, String>>).unwrap(), "");
    }

    #[test]
    fn errors_name_the_key() {
        #[derive(Serialize)]
        struct Amount {
            value: Vec<f64>,
        }
        let err = encode(&Amount {
            value: vec![1.0, f64::INFINITY],
        })
        .unwrap_err();
        assert_eq!(err.key(), "value[1]");
        assert_eq!(
            err.to_string(),
            "cannot form-encode `value[1]`: inf is not a finite number"
        );

        let err = encode("plain").unwrap_err();
        assert_eq!(err.key(), "");
        assert!(
            err.to_string()
                .starts_with("cannot form-encode the parameters:"),
            "{err}"
        );

        let err = encode(&vec![1, 2]).unwrap_err();
        assert!(err.to_string().contains("not a sequence"), "{err}");

        struct Bytes;
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(b"x")
            }
        }
        let err = encode(&BTreeMap::from([("data", Bytes)])).unwrap_err();
        assert_eq!(err.key(), "data");

        let err = encode(&BTreeMap::from([("m", BTreeMap::from([(vec![1], 1)]))])).unwrap_err();
        assert_eq!(err.key(), "m");
        assert!(err.reason().contains("map key"), "{err}");
    }

    #[test]
    fn custom_serialize_errors_get_the_key() {
        struct Failing;
        impl Serialize for Failing {
            fn serialize<S: serde::Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let err = encode(&BTreeMap::from([("items", vec![Failing])])).unwrap_err();
        assert_eq!(err.key(), "items[0]");
        assert_eq!(err.reason(), "no");
    }

    #[test]
    fn expand_from_options_continues_numbering() {
        let mut pairs = to_pairs(&json!({"expand": ["customer"], "limit": 3})).unwrap();
        append_expand(&mut pairs, &["data.invoice".to_owned(), "x".to_owned()]);
        assert_eq!(
            join(&pairs),
            "expand[0]=customer&limit=3&expand[1]=data.invoice&expand[2]=x"
        );
        let mut none = Vec::new();
        append_expand(&mut none, &["customer".to_owned()]);
        assert_eq!(join(&none), "expand[0]=customer");
    }

    #[test]
    fn path_segments_escape_everything_reserved() {
        assert_eq!(path_segment("cus_123"), "cus_123");
        assert_eq!(path_segment("a/b c[d]?"), "a%2Fb%20c%5Bd%5D%3F");
    }
}
