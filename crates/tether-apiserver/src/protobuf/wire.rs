//! The protobuf wire format: keys, varints, fixed-width numbers, length-delimited fields, and
//! skipping fields the table does not know (groups included).

use super::error::Problem;

pub const VARINT: u8 = 0;
pub const I64: u8 = 1;
pub const LEN: u8 = 2;
pub const START_GROUP: u8 = 3;
pub const END_GROUP: u8 = 4;
pub const I32: u8 = 5;

/// Groups nested deeper than this inside an unknown field are refused rather than walked.
const MAX_GROUP_DEPTH: usize = 100;

pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn varint(&mut self) -> Result<u64, Problem> {
        let mut value = 0u64;
        for (i, byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                // The tenth byte may only carry the top bit of a 64-bit value.
                if i == 9 && *byte > 1 {
                    return Err(Problem::VarintOverflow);
                }
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        if self.buf.len() >= 10 {
            Err(Problem::VarintOverflow)
        } else {
            Err(Problem::Truncated)
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Problem> {
        if self.buf.len() < n {
            return Err(Problem::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub fn fixed64(&mut self) -> Result<u64, Problem> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// The payload of a length-delimited field.
    pub fn bytes(&mut self) -> Result<&'a [u8], Problem> {
        let len = self.varint()?;
        let len = usize::try_from(len).map_err(|_| Problem::Truncated)?;
        self.take(len)
    }

    /// A field key: (field number, wire type).
    pub fn key(&mut self) -> Result<(u32, u8), Problem> {
        let key = self.varint()?;
        let wire = (key & 7) as u8;
        let tag = key >> 3;
        if tag == 0 || tag > u64::from(u32::MAX >> 3) {
            return Err(Problem::InvalidTag(tag));
        }
        Ok((tag as u32, wire))
    }

    /// Skips the value of an unknown field whose key was just read.
    pub fn skip(&mut self, tag: u32, wire: u8) -> Result<(), Problem> {
        match wire {
            VARINT => self.varint().map(drop),
            I64 => self.take(8).map(drop),
            LEN => self.bytes().map(drop),
            I32 => self.take(4).map(drop),
            START_GROUP => self.skip_group(tag),
            END_GROUP => Err(Problem::UnexpectedEndGroup(tag)),
            other => Err(Problem::UnknownWireType(other)),
        }
    }

    /// Skips to the end-group key matching `tag`, through nested groups, without recursion.
    fn skip_group(&mut self, tag: u32) -> Result<(), Problem> {
        let mut open = vec![tag];
        while let Some(&current) = open.last() {
            let (t, w) = self.key()?;
            match w {
                START_GROUP => {
                    if open.len() >= MAX_GROUP_DEPTH {
                        return Err(Problem::TooDeep(MAX_GROUP_DEPTH));
                    }
                    open.push(t);
                }
                END_GROUP if t == current => {
                    open.pop();
                }
                END_GROUP => return Err(Problem::UnexpectedEndGroup(t)),
                _ => self.skip(t, w)?,
            }
        }
        Ok(())
    }
}

pub fn wire_name(wire: u8) -> &'static str {
    match wire {
        VARINT => "varint",
        I64 => "64-bit",
        LEN => "length-delimited",
        START_GROUP => "start-group",
        END_GROUP => "end-group",
        I32 => "32-bit",
        _ => "invalid",
    }
}
