//! `#[derive(Frame)]`: one test per attribute and field kind.

use std::marker::PhantomData;

use corering::frame::{DecodeError, DecodeErrorKind, Decoded, Frame};

fn enc<'a, F: Frame<'a>>(f: &F) -> Vec<u8> {
    let mut v = vec![0u8; f.encoded_len()];
    f.encode(&mut v);
    v
}

fn dec<'a, F: Frame<'a>>(b: &'a [u8]) -> F {
    match F::decode(b) {
        Ok(Decoded::Complete { frame, consumed }) => {
            assert_eq!(consumed, b.len(), "frame did not consume the whole input");
            frame
        }
        Ok(Decoded::Incomplete { needed }) => panic!("incomplete: needs {needed} more"),
        Err(e) => panic!("decode error: {e}"),
    }
}

fn err<'a, F: Frame<'a> + std::fmt::Debug>(b: &'a [u8]) -> DecodeError {
    match F::decode(b) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn needed<'a, F: Frame<'a> + std::fmt::Debug>(b: &'a [u8]) -> usize {
    match F::decode(b) {
        Ok(Decoded::Incomplete { needed }) => needed,
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

fn check(e: &DecodeError, kind: DecodeErrorKind, path: &str, offset: usize) {
    assert_eq!(
        (e.kind(), e.path(), e.offset()),
        (&kind, path, offset),
        "{e}"
    );
}

// ---- numbers and endianness --------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct BigByDefault {
    a: u16,
    b: u32,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(endian = "little")]
struct Little {
    a: u16,
    #[frame(endian = "big")]
    b: u32,
}

#[test]
fn endian_container_default_and_field_override() {
    let f = BigByDefault {
        a: 0x0102,
        b: 0x03040506,
    };
    assert_eq!(enc(&f), [1, 2, 3, 4, 5, 6]);
    assert_eq!(dec::<BigByDefault>(&[1, 2, 3, 4, 5, 6]), f);

    let f = Little {
        a: 0x0102,
        b: 0x03040506,
    };
    assert_eq!(enc(&f), [2, 1, 3, 4, 5, 6]);
    assert_eq!(dec::<Little>(&[2, 1, 3, 4, 5, 6]), f);
}

#[derive(Frame, Debug, PartialEq)]
struct Widths {
    a: u8,
    b: u16,
    c: u32,
    d: u64,
    e: u128,
    f: i8,
    g: i16,
    h: i32,
    i: i64,
    j: i128,
    k: f32,
    l: f64,
    m: bool,
}

#[test]
fn integers_of_every_width_floats_and_bool() {
    let f = Widths {
        a: u8::MAX,
        b: u16::MAX - 1,
        c: 0xdead_beef,
        d: u64::MAX / 3,
        e: u128::MAX / 5,
        f: i8::MIN,
        g: -2,
        h: i32::MIN + 1,
        i: -1,
        j: i128::MIN,
        k: 1.5,
        l: -0.25,
        m: true,
    };
    let b = enc(&f);
    assert_eq!(b.len(), 1 + 2 + 4 + 8 + 16 + 1 + 2 + 4 + 8 + 16 + 4 + 8 + 1);
    assert_eq!(&b[..3], &[0xff, 0xff, 0xfe]);
    assert_eq!(dec::<Widths>(&b), f);
}

#[test]
fn bool_must_be_zero_or_one() {
    let mut b = enc(&Widths {
        a: 0,
        b: 0,
        c: 0,
        d: 0,
        e: 0,
        f: 0,
        g: 0,
        h: 0,
        i: 0,
        j: 0,
        k: 0.0,
        l: 0.0,
        m: false,
    });
    let last = b.len() - 1;
    b[last] = 2;
    let e = err::<Widths>(&b);
    check(
        &e,
        DecodeErrorKind::Invalid("expected a bool (0 or 1)"),
        "Widths.m",
        last,
    );
}

// ---- byte arrays, magic, constants ---------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct Arrays {
    mac: [u8; 6],
    pad: [u8; 2],
}

#[test]
fn fixed_byte_arrays() {
    let f = Arrays {
        mac: [1, 2, 3, 4, 5, 6],
        pad: [7, 8],
    };
    assert_eq!(enc(&f), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(dec::<Arrays>(&[1, 2, 3, 4, 5, 6, 7, 8]), f);
    // One length check for the whole fixed run: the first answer is exact.
    assert_eq!(needed::<Arrays>(&[1, 2]), 6);
}

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"CRNG")]
struct WithMagic {
    v: u8,
}

#[test]
fn container_magic() {
    assert_eq!(enc(&WithMagic { v: 9 }), b"CRNG\x09");
    assert_eq!(dec::<WithMagic>(b"CRNG\x09"), WithMagic { v: 9 });
    // A matching start waits for more; a wrong byte fails at once.
    assert_eq!(needed::<WithMagic>(b"CR"), 3);
    check(
        &err::<WithMagic>(b"CX"),
        DecodeErrorKind::BadMagic,
        "WithMagic",
        0,
    );
    check(
        &err::<WithMagic>(b"CRNX\x09"),
        DecodeErrorKind::BadMagic,
        "WithMagic",
        0,
    );
}

#[derive(Frame, Debug, PartialEq)]
struct FieldMagic {
    len: u8,
    #[frame(magic = b"AB")]
    sig: [u8; 2],
    #[frame(magic = b"\r\n")]
    sep: (),
}

#[test]
fn field_magic_on_array_and_unit() {
    // Encode writes the magic whatever the field holds.
    let b = enc(&FieldMagic {
        len: 1,
        sig: [0, 0],
        sep: (),
    });
    assert_eq!(b, b"\x01AB\r\n");
    assert_eq!(
        dec::<FieldMagic>(&b),
        FieldMagic {
            len: 1,
            sig: *b"AB",
            sep: ()
        }
    );
    check(
        &err::<FieldMagic>(b"\x01AC\r\n"),
        DecodeErrorKind::BadMagic,
        "FieldMagic.sig",
        1,
    );
    check(
        &err::<FieldMagic>(b"\x01AB\n\n"),
        DecodeErrorKind::BadMagic,
        "FieldMagic.sep",
        3,
    );
}

const VERSION: u16 = 2;

#[derive(Frame, Debug, PartialEq)]
struct Constants {
    #[frame(constant = VERSION)]
    version: u16,
    #[frame(constant = true)]
    on: bool,
    x: u8,
}

#[test]
fn constants_must_match_and_are_written() {
    let b = enc(&Constants {
        version: 0,
        on: false,
        x: 5,
    });
    assert_eq!(b, [0, 2, 1, 5]);
    assert_eq!(
        dec::<Constants>(&b),
        Constants {
            version: 2,
            on: true,
            x: 5
        }
    );
    check(
        &err::<Constants>(&[0, 3, 1, 5]),
        DecodeErrorKind::BadMagic,
        "Constants.version",
        0,
    );
    check(
        &err::<Constants>(&[0, 2, 0, 5]),
        DecodeErrorKind::BadMagic,
        "Constants.on",
        2,
    );
}

// ---- lengths -------------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct LenField<'a> {
    kind: u8,
    n: u16,
    #[frame(len = n)]
    data: &'a [u8],
    tail: u8,
}

#[test]
fn len_from_an_earlier_field() {
    let b = [7, 0, 3, b'a', b'b', b'c', 9];
    let f = dec::<LenField>(&b);
    assert_eq!(
        f,
        LenField {
            kind: 7,
            n: 3,
            data: b"abc",
            tail: 9
        }
    );
    // Encode writes the real length, whatever `n` says.
    let f = LenField {
        kind: 7,
        n: 999,
        data: b"abcd",
        tail: 9,
    };
    assert_eq!(enc(&f), [7, 0, 4, b'a', b'b', b'c', b'd', 9]);
    assert_eq!(needed::<LenField>(&b[..4]), 2);
}

#[derive(Frame, Debug, PartialEq)]
struct Prefixes<'a> {
    #[frame(prefix = u8)]
    a: &'a [u8],
    #[frame(prefix = u16)]
    b: &'a [u8],
    #[frame(prefix = u32, endian = "little")]
    c: &'a [u8],
    #[frame(prefix = u64)]
    d: &'a [u8],
}

#[test]
fn length_prefixes_of_every_width() {
    let f = Prefixes {
        a: b"x",
        b: b"yy",
        c: b"zzz",
        d: b"",
    };
    let b = enc(&f);
    assert_eq!(
        b,
        [
            &[1u8, b'x'][..],
            &[0, 2, b'y', b'y'],
            &[3, 0, 0, 0, b'z', b'z', b'z'],
            &[0; 8]
        ]
        .concat()
    );
    assert_eq!(dec::<Prefixes>(&b), f);
}

#[derive(Frame, Debug, PartialEq)]
struct Limits<'a> {
    n: u32,
    #[frame(len = n, max = 4)]
    by_field: &'a [u8],
    #[frame(prefix = u16, max = 3)]
    by_prefix: &'a [u8],
}

#[test]
fn max_bounds_lengths_with_the_offset_of_the_length() {
    let too_long = [0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0];
    let e = err::<Limits>(&too_long);
    check(
        &e,
        DecodeErrorKind::TooLong { len: 5, max: 4 },
        "Limits.by_field",
        0,
    );
    // The limit is checked before the data arrives.
    let e = err::<Limits>(&[0, 0, 0, 2, 1, 2, 0, 4]);
    check(
        &e,
        DecodeErrorKind::TooLong { len: 4, max: 3 },
        "Limits.by_prefix",
        6,
    );
    assert_eq!(
        dec::<Limits>(&[0, 0, 0, 1, 9, 0, 3, 1, 2, 3]).by_prefix,
        [1, 2, 3]
    );
}

#[test]
#[should_panic(expected = "does not fit the length field")]
fn encoding_a_length_that_does_not_fit_panics() {
    #[derive(Frame)]
    struct Small<'a> {
        #[frame(prefix = u8)]
        data: &'a [u8],
    }
    let data = [0u8; 256];
    let f = Small { data: &data };
    let mut out = vec![0u8; f.encoded_len()];
    f.encode(&mut out);
}

// ---- strings and owned fields ----------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct Texts<'a> {
    #[frame(prefix = u8)]
    name: &'a str,
    #[frame(prefix = u8)]
    owned: String,
    #[frame(prefix = u8)]
    bytes: Vec<u8>,
}

#[test]
fn borrowed_and_owned_strings_and_bytes() {
    let f = Texts {
        name: "héllo",
        owned: "wörld".into(),
        bytes: vec![1, 2],
    };
    let b = enc(&f);
    assert_eq!(dec::<Texts>(&b), f);
    // Invalid UTF-8: the offset is the first bad byte.
    let bad = [3, b'a', 0xff, b'b', 0, 0];
    check(
        &err::<Texts>(&bad),
        DecodeErrorKind::BadUtf8,
        "Texts.name",
        2,
    );
    let bad = [0, 2, b'a', 0xc3, 0];
    check(
        &err::<Texts>(&bad),
        DecodeErrorKind::BadUtf8,
        "Texts.owned",
        3,
    );
}

// ---- repeated and nested frames ------------------------------------------------------

#[derive(Frame, Debug, PartialEq, Clone, Copy)]
struct Point {
    x: i16,
    y: i16,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(magic = b"P")]
struct Tagged {
    #[frame(constant = 1)]
    one: u8,
    p: Point,
}

#[derive(Frame, Debug, PartialEq)]
struct Shapes {
    count: u8,
    #[frame(len = count)]
    points: Vec<Point>,
    #[frame(prefix = u16, endian = "little")]
    weights: Vec<u16>,
    #[frame(prefix = u8)]
    flags: Vec<bool>,
    #[frame(prefix = u8)]
    ids: Vec<[u8; 2]>,
    tagged: Tagged,
}

#[test]
fn repeated_values_and_nested_frames() {
    let f = Shapes {
        count: 0,
        points: vec![Point { x: 1, y: -1 }, Point { x: 2, y: -2 }],
        weights: vec![0x0102, 3],
        flags: vec![true, false],
        ids: vec![*b"ab"],
        tagged: Tagged {
            one: 1,
            p: Point { x: 5, y: 6 },
        },
    };
    let b = enc(&f);
    assert_eq!(b[0], 2, "the count is written from the vector's length");
    assert_eq!(&b[9..13], &[2, 0, 2, 1]);
    let d = dec::<Shapes>(&b);
    assert_eq!(d.points, f.points);
    assert_eq!(d.tagged, f.tagged);
}

#[derive(Frame, Debug, PartialEq)]
struct Outer {
    a: u8,
    inner: Tagged,
}

#[test]
fn nested_errors_name_the_path_and_the_outer_offset() {
    let e = err::<Outer>(&[0, b'Q']);
    check(&e, DecodeErrorKind::BadMagic, "Outer.inner", 1);
    let e = err::<Outer>(&[0, b'P', 2, 0, 0, 0, 0]);
    check(&e, DecodeErrorKind::BadMagic, "Outer.inner.one", 2);
    assert_eq!(
        e.to_string(),
        "bad magic in field `Outer.inner.one` at byte 2"
    );
    // Incomplete nested frames ask for what the nested frame needs.
    assert_eq!(needed::<Outer>(&[0, b'P', 1, 0]), 3);
}

// ---- enums ----------------------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u16, endian = "little")]
enum Cmd<'a> {
    #[frame(id = 1)]
    Ping,
    #[frame(id = 0x0203)]
    Echo(#[frame(prefix = u8)] &'a [u8]),
    #[frame(id = b'M')]
    Move { dx: i8, dy: i8 },
}

#[test]
fn enum_variants_selected_by_tag() {
    assert_eq!(enc(&Cmd::Ping), [1, 0]);
    assert_eq!(enc(&Cmd::Echo(b"hi")), [3, 2, 2, b'h', b'i']);
    assert_eq!(enc(&Cmd::Move { dx: -1, dy: 1 }), [b'M', 0, 0xff, 1]);
    assert_eq!(dec::<Cmd>(&[1, 0]), Cmd::Ping);
    assert_eq!(dec::<Cmd>(&[3, 2, 2, b'h', b'i']), Cmd::Echo(b"hi"));
    assert_eq!(dec::<Cmd>(&[b'M', 0, 0xff, 1]), Cmd::Move { dx: -1, dy: 1 });
    let e = err::<Cmd>(&[9, 9]);
    check(&e, DecodeErrorKind::BadTag(0x0909), "Cmd", 0);
    assert_eq!(needed::<Cmd>(&[3]), 1);
    assert_eq!(needed::<Cmd>(&[3, 2, 5, b'a']), 4);
}

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8, magic = b"!")]
enum WithOther {
    #[frame(id = 1)]
    One(u8),
    #[frame(other)]
    Unknown { tag: u8 },
}

#[test]
fn enum_catch_all_keeps_the_tag_and_consumes_only_it() {
    assert_eq!(dec::<WithOther>(b"!\x01\x05"), WithOther::One(5));
    match WithOther::decode(b"!\x07\x05").unwrap() {
        Decoded::Complete { frame, consumed } => {
            assert_eq!(frame, WithOther::Unknown { tag: 7 });
            assert_eq!(consumed, 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(enc(&WithOther::Unknown { tag: 7 }), b"!\x07");
}

#[derive(Frame, Debug, PartialEq)]
struct InEnum {
    c: Cmd2,
}

#[derive(Frame, Debug, PartialEq)]
#[frame(tag = u8)]
enum Cmd2 {
    #[frame(id = 1)]
    Set {
        #[frame(constant = 0xAA)]
        marker: u8,
    },
}

#[test]
fn enum_variant_field_paths() {
    let e = err::<InEnum>(&[1, 0]);
    check(&e, DecodeErrorKind::BadMagic, "InEnum.c.Set.marker", 1);
    let e = err::<InEnum>(&[2]);
    check(&e, DecodeErrorKind::BadTag(2), "InEnum.c", 0);
}

// ---- optional fields ------------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct Optional<'a> {
    flags: u8,
    #[frame(if = flags & 1 != 0)]
    id: Option<u32>,
    n: u8,
    #[frame(if = "flags & 2 != 0", len = n)]
    body: Option<&'a [u8]>,
    #[frame(if = body.is_some() && flags & 4 != 0)]
    point: Option<Point>,
}

#[test]
fn optional_fields_by_condition_on_earlier_fields() {
    let none = Optional {
        flags: 0,
        id: None,
        n: 0,
        body: None,
        point: None,
    };
    assert_eq!(enc(&none), [0, 0]);
    assert_eq!(dec::<Optional>(&[0, 0]), none);

    let all = Optional {
        flags: 7,
        id: Some(5),
        n: 0,
        body: Some(b"xy"),
        point: Some(Point { x: 1, y: 2 }),
    };
    let b = enc(&all);
    assert_eq!(b, [7, 0, 0, 0, 5, 2, b'x', b'y', 0, 1, 0, 2]);
    assert_eq!(dec::<Optional>(&b), Optional { n: 2, ..all });
}

// ---- skip and PhantomData -----------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct Skips<T> {
    a: u8,
    #[frame(skip)]
    cache: Vec<u32>,
    marker: PhantomData<T>,
}

#[test]
fn skipped_and_phantom_fields_have_no_bytes() {
    let f = Skips::<String> {
        a: 1,
        cache: vec![1, 2],
        marker: PhantomData,
    };
    assert_eq!(enc(&f), [1]);
    assert_eq!(
        dec::<Skips<String>>(&[1]),
        Skips {
            a: 1,
            cache: vec![],
            marker: PhantomData
        }
    );
}

// ---- tuple structs, generics, crate path ------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
struct Tuple<'a>(
    u8,
    #[frame(len = 0)] &'a [u8],
    #[frame(if = _0 > 1)] Option<u8>,
);

#[test]
fn tuple_fields_are_named_by_index() {
    assert_eq!(enc(&Tuple(0, b"ab", Some(9))), [2, b'a', b'b', 9]);
    assert_eq!(dec::<Tuple>(&[1, b'a']), Tuple(1, b"a", None));
    assert_eq!(needed::<Tuple>(&[2, b'a']), 1);
    assert_eq!(needed::<Tuple>(&[2, b'a', b'b']), 1);
}

#[derive(Frame, Debug, PartialEq)]
#[frame(crate = corering)]
struct Generic<T> {
    id: u8,
    #[frame(prefix = u8)]
    items: Vec<T>,
    one: T,
}

#[test]
fn generic_frames_bound_their_parameters() {
    let f = Generic {
        id: 1,
        items: vec![Point { x: 1, y: 2 }],
        one: Point { x: 3, y: 4 },
    };
    let b = enc(&f);
    assert_eq!(b.len(), 1 + 1 + 4 + 4);
    assert_eq!(dec::<Generic<Point>>(&b), f);
}

// ---- line frames ---------------------------------------------------------------------------------

#[derive(Frame, Debug, PartialEq)]
#[frame(line, magic = "SET")]
struct Set<'a> {
    key: &'a str,
    ttl: i32,
    #[frame(rest)]
    value: &'a [u8],
}

#[test]
fn line_frame_crlf_with_magic_word_and_rest() {
    let f = Set {
        key: "k",
        ttl: -10,
        value: b"hello world",
    };
    assert_eq!(enc(&f), b"SET k -10 hello world\r\n");
    assert_eq!(dec::<Set>(b"SET k -10 hello world\r\n"), f);
    assert_eq!(dec::<Set>(b"SET k 0 \r\n").value, b"");
    // Waits for the terminator.
    assert_eq!(needed::<Set>(b"SET k 1 v"), 1);
    assert_eq!(needed::<Set>(b"SET k 1 v\r"), 1);
    // Wrong first word fails as soon as it can be seen.
    check(&err::<Set>(b"SEX"), DecodeErrorKind::BadMagic, "Set", 0);
    check(
        &err::<Set>(b"SET k 1 v\n"),
        DecodeErrorKind::Invalid("line ends with a bare LF instead of CRLF"),
        "Set",
        9,
    );
    check(
        &err::<Set>(b"SET k x v\r\n"),
        DecodeErrorKind::Invalid("expected a decimal integer"),
        "Set.ttl",
        6,
    );
    check(
        &err::<Set>(b"SET k 99999999999 v\r\n"),
        DecodeErrorKind::Invalid("integer out of range"),
        "Set.ttl",
        6,
    );
    check(
        &err::<Set>(b"SET k\r\n"),
        DecodeErrorKind::Invalid("missing field at the end of the line"),
        "Set.ttl",
        5,
    );
    check(
        &err::<Set>(b"SETk 1 v\r\n"),
        DecodeErrorKind::Invalid("expected a space before the field"),
        "Set.key",
        3,
    );
    check(
        &err::<Set>(b"SET \xff 1 v\r\n"),
        DecodeErrorKind::BadUtf8,
        "Set.key",
        4,
    );
}

#[derive(Frame, Debug, PartialEq)]
#[frame(line = "lf", max = 16)]
struct Words {
    a: String,
    b: u64,
    c: Vec<u8>,
}

#[test]
fn line_frame_lf_with_owned_fields_and_max() {
    let f = Words {
        a: "x".into(),
        b: 42,
        c: b"yz".to_vec(),
    };
    assert_eq!(enc(&f), b"x 42 yz\n");
    assert_eq!(dec::<Words>(b"x 42 yz\n"), f);
    // With LF endings a CR is data.
    assert_eq!(dec::<Words>(b"x 42 yz\r\n").c, b"yz\r");
    check(
        &err::<Words>(b"x 42 yz zz\n"),
        DecodeErrorKind::Invalid("unexpected bytes after the last field"),
        "Words",
        7,
    );
    check(
        &err::<Words>(&[b'a'; 17]),
        DecodeErrorKind::TooLong { len: 17, max: 16 },
        "Words",
        0,
    );
    assert_eq!(needed::<Words>(&[b'a'; 16]), 1);
    check(
        &err::<Words>(b"aaaaaaaaaaaaaaaaa\n"),
        DecodeErrorKind::TooLong { len: 17, max: 16 },
        "Words",
        0,
    );
}

#[derive(Frame, Debug, PartialEq)]
#[frame(line = "any", magic = b"PING")]
struct Ping;

#[test]
fn line_frame_any_accepts_lf_and_crlf() {
    assert_eq!(enc(&Ping), b"PING\r\n");
    assert_eq!(dec::<Ping>(b"PING\r\n"), Ping);
    assert_eq!(dec::<Ping>(b"PING\n"), Ping);
    check(
        &err::<Ping>(b"PING x\n"),
        DecodeErrorKind::Invalid("unexpected bytes after the last field"),
        "Ping",
        4,
    );
}

#[derive(Frame, Debug, PartialEq)]
#[allow(non_camel_case_types)]
struct r#Raw<'a> {
    r#type: u8,
    #[frame(len = r#type)]
    r#in: &'a str,
}

#[test]
fn raw_identifiers_work_and_are_shown_without_r_hash() {
    assert_eq!(
        dec::<Raw>(b"\x02ab"),
        Raw {
            r#type: 2,
            r#in: "ab"
        }
    );
    check(
        &err::<Raw>(b"\x01\xff"),
        DecodeErrorKind::BadUtf8,
        "Raw.in",
        1,
    );
}

#[derive(Frame, Debug, PartialEq)]
struct Shadowing<'a> {
    // Field names that the generated code also uses internally.
    __buf: u8,
    __pos: u8,
    #[frame(len = __pos)]
    __out: &'a [u8],
    #[frame(if = __buf == 1)]
    __v: Option<u8>,
}

#[test]
fn field_names_cannot_clash_with_generated_code() {
    let f = Shadowing {
        __buf: 1,
        __pos: 0,
        __out: b"xy",
        __v: Some(3),
    };
    assert_eq!(enc(&f), [1, 2, b'x', b'y', 3]);
    assert_eq!(
        dec::<Shadowing>(&[1, 2, b'x', b'y', 3]),
        Shadowing { __pos: 2, ..f }
    );
}
