use std::cell::Cell;
use std::convert::TryFrom;

use crate::common::TagClass;
use crate::common::TagStructure;
use crate::structure::{PL, StructureTag};

use nom;
use nom::bits::streaming as bits;
use nom::bytes::streaming::take;
use nom::combinator::map_opt;
use nom::error::{Error, ErrorKind, ParseError};
use nom::number::streaming as number;
use nom::sequence::tuple;
use nom::{IResult, InputLength, Needed};

fn class_bits(i: (&[u8], usize)) -> nom::IResult<(&[u8], usize), TagClass> {
    map_opt(bits::take(2usize), TagClass::from_u8)(i)
}

fn pc_bit(i: (&[u8], usize)) -> nom::IResult<(&[u8], usize), TagStructure> {
    map_opt(bits::take(1usize), TagStructure::from_u8)(i)
}

fn tagnr_bits(i: (&[u8], usize)) -> nom::IResult<(&[u8], usize), u64> {
    bits::take(5usize)(i)
}

fn parse_type_header(i: &[u8]) -> nom::IResult<&[u8], (TagClass, TagStructure, u64)> {
    nom::bits(tuple((class_bits, pc_bit, tagnr_bits)))(i)
}

fn parse_length(i: &[u8]) -> nom::IResult<&[u8], usize> {
    let (i, len) = number::be_u8(i)?;
    if len < 128 {
        Ok((i, len as usize))
    } else {
        let len = len - 128;
        // readyscan: more than 8 length bytes cannot be a length (parse_uint would wrap).
        if len > 8 {
            return Err(nom::Err::Failure(Error::from_error_kind(
                i,
                ErrorKind::TooLarge,
            )));
        }
        let (i, b) = take(len)(i)?;
        let (_, len) = parse_uint(b)?;
        Ok((
            i,
            usize::try_from(len)
                .map_err(|_| nom::Err::Failure(Error::from_error_kind(i, ErrorKind::TooLarge)))?,
        ))
    }
}

/// Extract an unsigned integer value from BER data.
pub fn parse_uint(i: &[u8]) -> nom::IResult<&[u8], u64> {
    Ok((i, i.iter().fold(0, |res, &byte| (res << 8) | byte as u64)))
}

/// Deepest nesting of elements accepted: a top-level element is at depth 1. LDAP messages nest
/// about 6 deep; without a limit, each level is a stack frame, and some 8,000 nested SEQUENCEs
/// (30 KB) overflow a thread's stack. (Added for readyscan.)
pub const MAX_DEPTH: usize = 64;

/// Largest top-level element accepted, in content bytes. Checked from the length header, so a
/// longer message fails at once instead of being buffered while its bytes arrive; an LDAP
/// client that reads only a few attributes has no use for bigger ones. (Added for readyscan.)
pub const MAX_MESSAGE_LEN: usize = 4 << 20;

/// Most elements one top-level element may hold. A decoded element takes about 90 bytes
/// whatever its encoded size (2 bytes), so the count bounds the memory a message can expand
/// into. Active Directory returns at most 1,500 values of an attribute in one answer
/// (MaxValRange), and readyscan reads no large multi-valued attribute. (Added for readyscan.)
pub const MAX_ELEMENTS: usize = 16_384;

/// Which limit a parse stopped at. (Added for readyscan.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`MAX_DEPTH`]
    Depth,
    /// [`MAX_MESSAGE_LEN`]
    MessageLen,
    /// [`MAX_ELEMENTS`]
    Elements,
}

thread_local! {
    static LIMIT_HIT: Cell<Option<Limit>> = const { Cell::new(None) };
}

/// The limit the last parse on this thread stopped at, cleared as it is read. ldap3 turns every
/// parse failure into the same "decoding error"; a caller that polls ldap3's connection driver
/// can clear this before each poll and read it when the driver ends, to say which limit the
/// server's answer went past. (Added for readyscan.)
pub fn take_limit_hit() -> Option<Limit> {
    LIMIT_HIT.with(Cell::take)
}

fn limit_error(i: &[u8], limit: Limit) -> nom::Err<Error<&[u8]>> {
    LIMIT_HIT.with(|hit| hit.set(Some(limit)));
    nom::Err::Failure(Error::from_error_kind(i, ErrorKind::TooLarge))
}

/// Parse raw BER data into a serializable structure.
///
/// Fails (`nom::Err::Failure`, never `Incomplete`) past [`MAX_DEPTH`], [`MAX_MESSAGE_LEN`] or
/// [`MAX_ELEMENTS`], and when an inner element claims more bytes than its parent holds.
pub fn parse_tag(i: &[u8]) -> nom::IResult<&[u8], StructureTag> {
    let mut elements = MAX_ELEMENTS;
    parse_nested(i, 1, &mut elements)
}

fn parse_nested<'a>(
    i: &'a [u8],
    depth: usize,
    elements: &mut usize,
) -> nom::IResult<&'a [u8], StructureTag> {
    if depth > MAX_DEPTH {
        return Err(limit_error(i, Limit::Depth));
    }
    if *elements == 0 {
        return Err(limit_error(i, Limit::Elements));
    }
    *elements -= 1;
    let (mut i, ((class, structure, id), len)) = tuple((parse_type_header, parse_length))(i)?;
    if depth == 1 && len > MAX_MESSAGE_LEN {
        return Err(limit_error(i, Limit::MessageLen));
    }

    let pl: PL = match structure {
        TagStructure::Primitive => {
            let (j, content) = take(len)(i)?;
            i = j;

            PL::P(content.to_vec())
        }
        TagStructure::Constructed => {
            let (j, mut content) = take(len)(i)?;
            i = j;

            let mut tv: Vec<StructureTag> = Vec::new();
            while content.input_len() > 0 {
                // The content is all there: an inner element that wants more is malformed.
                let (j, sub) = parse_nested(content, depth + 1, elements).map_err(|e| match e {
                    nom::Err::Incomplete(_) => {
                        nom::Err::Failure(Error::from_error_kind(content, ErrorKind::Eof))
                    }
                    nom::Err::Error(e) => nom::Err::Failure(e),
                    failure => failure,
                })?;
                content = j;
                tv.push(sub);
            }

            PL::C(tv)
        }
    };

    Ok((
        i,
        StructureTag {
            class,
            id,
            payload: pl,
        },
    ))
}

pub struct Parser;

impl Parser {
    pub fn new() -> Self {
        Self
    }

    pub fn parse<'a>(
        &mut self,
        input: &'a [u8],
    ) -> IResult<&'a [u8], StructureTag, nom::error::Error<&'a [u8]>> {
        if input.is_empty() {
            return Err(nom::Err::Incomplete(Needed::Unknown));
        };
        parse_tag(input)
    }
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::common::TagClass;
    use crate::structure::{PL, StructureTag};

    #[test]
    fn test_primitive() {
        let bytes: Vec<u8> = vec![2, 2, 255, 127];
        let result_tag = StructureTag {
            class: TagClass::Universal,
            id: 2u64,
            payload: PL::P(vec![255, 127]),
        };
        let rest_tag: Vec<u8> = vec![];

        let tag = parse_tag(&bytes[..]);

        assert_eq!(tag, Ok((&rest_tag[..], result_tag)));
    }

    #[test]
    fn test_constructed() {
        let bytes: Vec<u8> = vec![
            48, 14, 12, 12, 72, 101, 108, 108, 111, 32, 87, 111, 114, 108, 100, 33,
        ];
        let result_tag = StructureTag {
            class: TagClass::Universal,
            id: 16u64,
            payload: PL::C(vec![StructureTag {
                class: TagClass::Universal,
                id: 12u64,
                payload: PL::P(vec![72, 101, 108, 108, 111, 32, 87, 111, 114, 108, 100, 33]),
            }]),
        };
        let rest_tag: Vec<u8> = vec![];

        let tag = parse_tag(&bytes[..]);

        assert_eq!(tag, Ok((&rest_tag[..], result_tag)));
    }

    /// `depth` SEQUENCEs, each holding the next; the innermost is empty.
    fn nested(depth: usize) -> Vec<u8> {
        // Each level is a 6-byte header (tag, 0x84, 4 length bytes) whose length counts the
        // headers inside it.
        let mut out = Vec::with_capacity(depth * 6);
        for level in 0..depth {
            out.extend_from_slice(&[0x30, 0x84]);
            out.extend_from_slice(&(((depth - level - 1) * 6) as u32).to_be_bytes());
        }
        out
    }

    #[test]
    fn nesting_past_the_limit_fails() {
        assert!(parse_tag(&nested(MAX_DEPTH)).is_ok());
        for depth in [MAX_DEPTH + 1, 100_000] {
            assert!(matches!(
                parse_tag(&nested(depth)),
                Err(nom::Err::Failure(_))
            ));
            assert_eq!(take_limit_hit(), Some(Limit::Depth));
            assert_eq!(take_limit_hit(), None);
        }
    }

    #[test]
    fn message_length_is_checked_from_the_header() {
        let mut big = vec![0x04, 0x84];
        big.extend_from_slice(&((MAX_MESSAGE_LEN + 1) as u32).to_be_bytes());
        assert!(matches!(parse_tag(&big), Err(nom::Err::Failure(_))));
        assert_eq!(take_limit_hit(), Some(Limit::MessageLen));
        // Under the limit and not all there yet: wait for more.
        let mut short = vec![0x04, 0x84];
        short.extend_from_slice(&(MAX_MESSAGE_LEN as u32).to_be_bytes());
        assert!(matches!(parse_tag(&short), Err(nom::Err::Incomplete(_))));
        // Nine length bytes are no length.
        let nine = [0x04, 0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(parse_tag(&nine), Err(nom::Err::Failure(_))));
    }

    #[test]
    fn element_count_is_bounded() {
        let count = MAX_ELEMENTS;
        let mut msg = vec![0x30, 0x84];
        msg.extend_from_slice(&((count * 2) as u32).to_be_bytes());
        for _ in 0..count {
            msg.extend_from_slice(&[0x04, 0x00]);
        }
        assert!(matches!(parse_tag(&msg), Err(nom::Err::Failure(_))));
        assert_eq!(take_limit_hit(), Some(Limit::Elements));
    }

    #[test]
    fn an_inner_element_longer_than_its_parent_fails() {
        // A SEQUENCE of 3 bytes holding an OCTET STRING that claims 100.
        let bytes = [0x30, 0x03, 0x04, 0x64, 0x41];
        assert!(matches!(parse_tag(&bytes), Err(nom::Err::Failure(_))));
    }

    #[test]
    fn test_long_length() {
        let bytes: Vec<u8> = vec![
            0x30, 0x82, 0x01, 0x01, 0x80, 0x0C, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E,
            0x67, 0x54, 0x61, 0x67, 0x81, 0x81, 0xF0, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F,
            0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67,
            0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61,
            0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A,
            0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73,
            0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41,
            0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F,
            0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67,
            0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61,
            0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A,
            0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73,
            0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41,
            0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F,
            0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67,
            0x54, 0x61, 0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61,
            0x67, 0x4A, 0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A,
            0x75, 0x73, 0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67, 0x4A, 0x75, 0x73,
            0x74, 0x41, 0x4C, 0x6F, 0x6E, 0x67, 0x54, 0x61, 0x67,
        ];

        let result_tag = StructureTag {
            class: TagClass::Universal,
            id: 16u64,
            payload: PL::C(vec![
                StructureTag {
                    class: TagClass::Context,
                    id: 0,
                    payload: PL::P(vec![74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103]),
                },
                StructureTag {
                    class: TagClass::Context,
                    id: 1,
                    payload: PL::P(vec![
                        74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116,
                        65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110,
                        103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103,
                        74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116,
                        65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110,
                        103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103,
                        74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116,
                        65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110,
                        103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103,
                        74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116,
                        65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110,
                        103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103,
                        74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116,
                        65, 76, 111, 110, 103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110,
                        103, 84, 97, 103, 74, 117, 115, 116, 65, 76, 111, 110, 103, 84, 97, 103,
                    ]),
                },
            ]),
        };

        let rest_tag = Vec::new();

        let tag = parse_tag(&bytes[..]);
        assert_eq!(tag, Ok((&rest_tag[..], result_tag)));
    }
}
