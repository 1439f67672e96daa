//! A bare HTTP/2 client that writes its frames by hand, for the one request no client library
//! will build: an `:authority` that is not a URI authority (a Unix socket's path, as grpcurl,
//! grpcio and grpc-java send it). It speaks just enough HTTP/2 for one unary gRPC call.

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
const STREAM: u32 = 1;

/// How the server answered the call.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The gRPC response message (without its 5-byte gRPC frame header).
    Message(Vec<u8>),
    /// The stream was reset with this HTTP/2 error code (1 is PROTOCOL_ERROR).
    Reset(u32),
    /// The stream ended without a message (a gRPC error, told in trailers this client does not
    /// decode).
    NoMessage,
}

/// Sends one unary gRPC call for `path` with `message` on stream 1, with `:authority` set to
/// `authority` byte for byte (or left out when `None`), and reads the answer.
pub async fn unary_call(
    mut io: impl AsyncRead + AsyncWrite + Unpin,
    authority: Option<&[u8]>,
    path: &str,
    message: &[u8],
) -> Answer {
    let mut block = vec![
        0x83, // :method POST (static table 3)
        0x86, // :scheme http (static table 6)
    ];
    literal(&mut block, 4, path.as_bytes()); // :path
    if let Some(authority) = authority {
        literal(&mut block, 1, authority); // :authority
    }
    literal(&mut block, 31, b"application/grpc"); // content-type
    block.push(0x00); // te: a literal with a new name
    string(&mut block, b"te");
    string(&mut block, b"trailers");

    let mut body = vec![0];
    body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    body.extend_from_slice(message);

    let mut out = PREFACE.to_vec();
    frame(&mut out, SETTINGS, 0, 0, &[]);
    frame(&mut out, HEADERS, END_HEADERS, STREAM, &block);
    frame(&mut out, DATA, END_STREAM, STREAM, &body);
    io.write_all(&out).await.unwrap();

    let mut data = Vec::new();
    loop {
        let mut head = [0u8; 9];
        if io.read_exact(&mut head).await.is_err() {
            panic!("the connection closed before stream {STREAM} ended");
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0; len];
        io.read_exact(&mut payload).await.unwrap();
        match kind {
            SETTINGS if flags & ACK == 0 => {
                let mut ack = Vec::new();
                frame(&mut ack, SETTINGS, ACK, 0, &[]);
                io.write_all(&ack).await.unwrap();
            }
            PING if flags & ACK == 0 => {
                let mut pong = Vec::new();
                frame(&mut pong, PING, ACK, 0, &payload);
                io.write_all(&pong).await.unwrap();
            }
            RST_STREAM if stream == STREAM => {
                return Answer::Reset(u32::from_be_bytes(payload[..4].try_into().unwrap()));
            }
            GOAWAY => panic!("the server sent GOAWAY: {payload:?}"),
            DATA if stream == STREAM => data.extend_from_slice(&payload),
            _ => {}
        }
        if stream == STREAM && matches!(kind, DATA | HEADERS) && flags & END_STREAM != 0 {
            return match data.get(5..) {
                Some(message) => Answer::Message(message.to_vec()),
                None => Answer::NoMessage,
            };
        }
    }
}

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A literal header field without indexing, its name taken from the static table (RFC 7541
/// 6.2.2), its value sent as is (no Huffman coding).
fn literal(block: &mut Vec<u8>, name_index: usize, value: &[u8]) {
    integer(block, 0x00, 4, name_index);
    string(block, value);
}

fn string(block: &mut Vec<u8>, value: &[u8]) {
    integer(block, 0x00, 7, value.len());
    block.extend_from_slice(value);
}

/// An HPACK integer with an `prefix_bits`-bit prefix (RFC 7541 5.1).
fn integer(block: &mut Vec<u8>, high_bits: u8, prefix_bits: u32, mut value: usize) {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        block.push(high_bits | value as u8);
        return;
    }
    block.push(high_bits | max as u8);
    value -= max;
    while value >= 0x80 {
        block.push((value % 0x80) as u8 | 0x80);
        value /= 0x80;
    }
    block.push(value as u8);
}
