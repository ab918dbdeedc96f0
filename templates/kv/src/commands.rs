//! The command set: dispatch by name, argument checks, and the work done on
//! the shard that owns each key. Every reply is appended to `out` as RESP.
//!
//! Single-key commands run where the key lives (inline on this worker, or
//! on its owner through one cross-worker call that carries the request as
//! RESP and brings the encoded reply back). Multi-key commands split their
//! keys by shard, run one call per shard concurrently and assemble the
//! reply in request order. Connections handle one command at a time, so
//! pipelined replies come back in order.

use corering::frame::{Decoded, Frame};

use super::glob;
use super::resp::{self, Command, NIL, OK};
use super::shard::{self, ensure_sweeper, on_shards, Route};
use super::store::{with_store, Clock, Store};

/// What the connection does after a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// Send the replies, then close (`QUIT`).
    Close,
}

const ERR_SYNTAX: &[u8] = b"ERR syntax error";
const ERR_NOT_INT: &[u8] = b"ERR value is not an integer or out of range";
const ERR_OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";

/// A command name as one number: its length and up to 8 bytes, lowercased,
/// so dispatch compares integers instead of strings. Every command we know
/// has a name of at most 8 bytes; longer names get 0, which is no command.
const fn name_id(name: &[u8]) -> u128 {
    if name.len() > 8 {
        return 0;
    }
    let mut v = (name.len() as u128) << 64;
    let mut i = 0;
    while i < name.len() {
        v |= (name[i].to_ascii_lowercase() as u128) << (8 * i);
        i += 1;
    }
    v
}

/// [`name_id`]s of the commands, as patterns for `match`.
mod id {
    use super::name_id;
    macro_rules! ids {
        ($($c:ident = $n:literal),* $(,)?) => { $(pub const $c: u128 = name_id($n);)* };
    }
    ids!(
        GET = b"get",
        SET = b"set",
        INCR = b"incr",
        DECR = b"decr",
        INCRBY = b"incrby",
        DECRBY = b"decrby",
        EXPIRE = b"expire",
        PEXPIRE = b"pexpire",
        TTL = b"ttl",
        PTTL = b"pttl",
        PERSIST = b"persist",
        PING = b"ping",
        ECHO = b"echo",
        MGET = b"mget",
        MSET = b"mset",
        DEL = b"del",
        EXISTS = b"exists",
        KEYS = b"keys",
        DBSIZE = b"dbsize",
        FLUSHALL = b"flushall",
        FLUSHDB = b"flushdb",
        COMMAND = b"command",
        CONFIG = b"config",
        CLIENT = b"client",
        SELECT = b"select",
        INFO = b"info",
        QUIT = b"quit",
    );
}

/// Runs one command and appends its reply to `out`.
pub async fn execute(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let Some(name) = cmd.arg(0) else {
        return Flow::Continue;
    };
    let argc = cmd.argc();
    let keyed = match name_id(name) {
        id::GET => Keyed::Get,
        id::SET => Keyed::Set,
        id::INCR => Keyed::Incr,
        id::DECR => Keyed::Decr,
        id::INCRBY => Keyed::IncrBy,
        id::DECRBY => Keyed::DecrBy,
        id::EXPIRE => Keyed::Expire,
        id::PEXPIRE => Keyed::PExpire,
        id::TTL => Keyed::Ttl,
        id::PTTL => Keyed::PTtl,
        id::PERSIST => Keyed::Persist,
        other => {
            return match other {
                id::PING => ping(cmd, out),
                id::ECHO if argc == 2 => done(|o| resp::opt_bulk(o, cmd.arg(1)), out),
                id::MGET if argc >= 2 => mget(cmd, out).await,
                id::MSET if argc >= 3 && argc % 2 == 1 => mset(cmd, out).await,
                id::DEL if argc >= 2 => count_keys(cmd, out, Count::Del).await,
                id::EXISTS if argc >= 2 => count_keys(cmd, out, Count::Exists).await,
                id::KEYS if argc == 2 => keys(cmd, out).await,
                id::DBSIZE if argc == 1 => dbsize(out).await,
                id::FLUSHALL | id::FLUSHDB if argc <= 2 => flushall(out).await,
                id::COMMAND => command(cmd, out),
                id::CONFIG => config(cmd, out),
                id::CLIENT => client(cmd, out),
                id::SELECT if argc == 2 => select(cmd, out),
                id::INFO => info(out),
                id::QUIT => {
                    out.extend_from_slice(OK);
                    Flow::Close
                }
                id::ECHO
                | id::MGET
                | id::MSET
                | id::DEL
                | id::EXISTS
                | id::KEYS
                | id::DBSIZE
                | id::FLUSHALL
                | id::FLUSHDB
                | id::SELECT => arity_error(name, out),
                _ => unknown_command(cmd, out),
            };
        }
    };
    if !keyed.arity_ok(argc) {
        return arity_error(name, out);
    }
    // Single-key commands take at most 8 arguments; longer ones are
    // malformed options.
    let mut head = [&[][..]; resp::HEAD_ARGS];
    let Some(args) = cmd.head(&mut head) else {
        resp::error(out, ERR_SYNTAX);
        return Flow::Continue;
    };
    match shard::route(args[1]) {
        Route::Local => with_store(|s| keyed.run(s, args, out)),
        Route::Remote(shard) => {
            // Ship the request as RESP and bring back the encoded reply.
            let mut req = vec![0u8; cmd.encoded_len()];
            cmd.encode(&mut req);
            match shard::call(shard, (keyed, req), run_encoded).await {
                Ok(reply) => out.extend_from_slice(&reply),
                Err(e) => call_failed(e, out),
            }
        }
    }
    Flow::Continue
}

/// Runs a single-key command received from another worker as RESP.
fn run_encoded(store: &mut Store, (keyed, req): (Keyed, Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    match Command::decode(&req) {
        Ok(Decoded::Complete { frame, .. }) => match frame.head(&mut [&[][..]; resp::HEAD_ARGS]) {
            Some(args) => keyed.run(store, args, &mut out),
            None => resp::error(&mut out, ERR_SYNTAX),
        },
        _ => resp::error(&mut out, b"ERR internal: bad forwarded request"),
    }
    out
}

fn done(f: impl FnOnce(&mut Vec<u8>), out: &mut Vec<u8>) -> Flow {
    f(out);
    Flow::Continue
}

/// `-ERR wrong number of arguments for 'name' command` (name lowercased).
fn arity_error(name: &[u8], out: &mut Vec<u8>) -> Flow {
    let mut msg = b"ERR wrong number of arguments for '".to_vec();
    msg.extend_from_slice(&name.to_ascii_lowercase());
    msg.extend_from_slice(b"' command");
    resp::error(out, &msg);
    Flow::Continue
}

fn call_failed(e: corering::CallError, out: &mut Vec<u8>) {
    resp::error(out, format!("ERR {e}").as_bytes());
}

/// `-ERR unknown command 'x', with args beginning with: 'a' 'b' `, cut
/// as redis 7 cuts it (name to 128 bytes, arguments to about 128).
fn unknown_command(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let name = cmd.arg(0).unwrap_or_default();
    let mut listed = Vec::new();
    for a in cmd.args().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        listed.push(b'\'');
        listed.extend_from_slice(&a[..a.len().min(room)]);
        listed.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&name[..name.len().min(128)]);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&listed);
    resp::error(out, &msg);
    Flow::Continue
}

// ---- single-key commands ------------------------------------------------------

/// Commands on one key, run on the key's shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyed {
    Get,
    Set,
    Incr,
    Decr,
    IncrBy,
    DecrBy,
    Expire,
    PExpire,
    Ttl,
    PTtl,
    Persist,
}

impl Keyed {
    fn arity_ok(self, argc: usize) -> bool {
        match self {
            Keyed::Get | Keyed::Incr | Keyed::Decr | Keyed::Ttl | Keyed::PTtl | Keyed::Persist => {
                argc == 2
            }
            Keyed::IncrBy | Keyed::DecrBy => argc == 3,
            Keyed::Set | Keyed::Expire | Keyed::PExpire => argc >= 3,
        }
    }

    /// Runs the command on `store` (which owns `args[1]`).
    fn run(self, store: &mut Store, args: &[&[u8]], out: &mut Vec<u8>) {
        let mut clock = Clock::default();
        let key = args[1];
        match self {
            Keyed::Get => get(store, key, &mut clock, out),
            Keyed::Set => set(store, args, &mut clock, out),
            Keyed::Incr => incr_by(store, key, Ok(1), &mut clock, out),
            Keyed::Decr => incr_by(store, key, Ok(-1), &mut clock, out),
            Keyed::IncrBy => {
                let by = resp::parse_i64(args[2]).ok_or(ERR_NOT_INT);
                incr_by(store, key, by, &mut clock, out)
            }
            Keyed::DecrBy => {
                let by = match resp::parse_i64(args[2]) {
                    None => Err(ERR_NOT_INT),
                    Some(i64::MIN) => Err(&b"ERR decrement would overflow"[..]),
                    Some(v) => Ok(-v),
                };
                incr_by(store, key, by, &mut clock, out)
            }
            Keyed::Expire => expire(store, args, 1000, b"expire", &mut clock, out),
            Keyed::PExpire => expire(store, args, 1, b"pexpire", &mut clock, out),
            Keyed::Ttl => ttl(store, key, true, &mut clock, out),
            Keyed::PTtl => ttl(store, key, false, &mut clock, out),
            Keyed::Persist => {
                let had = store
                    .get_mut(key, &mut clock)
                    .map(|e| std::mem::take(&mut e.expires_at) != 0);
                resp::int(out, had.unwrap_or(false) as i64);
            }
        }
    }
}

fn get(store: &mut Store, key: &[u8], clock: &mut Clock, out: &mut Vec<u8>) {
    resp::opt_bulk(out, store.get(key, clock));
}

/// Options of `SET key value [NX|XX] [GET] [EX s|PX ms|KEEPTTL]`.
#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    /// TTL in ms from EX or PX.
    ttl_ms: Option<i64>,
}

fn parse_set_options(args: &[&[u8]]) -> Result<SetOptions, &'static [u8]> {
    let mut o = SetOptions::default();
    let mut i = 3;
    while i < args.len() {
        let a = args[i];
        let has_next = i + 1 < args.len();
        if a.eq_ignore_ascii_case(b"nx") && !o.xx {
            o.nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") && !o.nx {
            o.xx = true;
        } else if a.eq_ignore_ascii_case(b"get") {
            o.get = true;
        } else if a.eq_ignore_ascii_case(b"keepttl") && o.ttl_ms.is_none() {
            o.keep_ttl = true;
        } else if (a.eq_ignore_ascii_case(b"ex") || a.eq_ignore_ascii_case(b"px"))
            && has_next
            && o.ttl_ms.is_none()
            && !o.keep_ttl
        {
            i += 1;
            let v = resp::parse_i64(args[i]).ok_or(ERR_NOT_INT)?;
            let invalid = &b"ERR invalid expire time in 'set' command"[..];
            if v <= 0 {
                return Err(invalid);
            }
            let ms = if a.eq_ignore_ascii_case(b"ex") {
                v.checked_mul(1000).ok_or(invalid)?
            } else {
                v
            };
            o.ttl_ms = Some(ms);
        } else {
            return Err(ERR_SYNTAX);
        }
        i += 1;
    }
    Ok(o)
}

fn set(store: &mut Store, args: &[&[u8]], clock: &mut Clock, out: &mut Vec<u8>) {
    let (key, value) = (args[1], args[2]);
    let opts = match parse_set_options(args) {
        Ok(o) => o,
        Err(e) => return resp::error(out, e),
    };
    let expires_at = match opts.ttl_ms {
        Some(ms) => match clock.now().checked_add_signed(ms) {
            Some(at) => at,
            None => return resp::error(out, b"ERR invalid expire time in 'set' command"),
        },
        None => 0,
    };
    // Fast path: plain `SET key value`.
    if args.len() == 3 {
        store.set(key, value, 0);
        out.extend_from_slice(OK);
        return;
    }
    let old = store.get_mut(key, clock);
    let exists = old.is_some();
    let keep = old.as_ref().map_or(0, |e| e.expires_at);
    if opts.get {
        resp::opt_bulk(out, old.map(|e| &*e.value));
    }
    if (opts.nx && exists) || (opts.xx && !exists) {
        if !opts.get {
            out.extend_from_slice(NIL);
        }
        return;
    }
    let expires_at = if opts.keep_ttl { keep } else { expires_at };
    store.set(key, value, expires_at);
    if expires_at != 0 {
        ensure_sweeper();
    }
    if !opts.get {
        out.extend_from_slice(OK);
    }
}

fn incr_by(
    store: &mut Store,
    key: &[u8],
    by: Result<i64, &'static [u8]>,
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    let by = match by {
        Ok(by) => by,
        Err(e) => return resp::error(out, e),
    };
    let mut digits = [0u8; 21];
    let new = match store.get_mut(key, clock) {
        Some(e) => {
            let Some(cur) = resp::parse_i64(&e.value) else {
                return resp::error(out, ERR_NOT_INT);
            };
            let Some(new) = cur.checked_add(by) else {
                return resp::error(out, ERR_OVERFLOW);
            };
            // The TTL stays, as in redis.
            e.set_value(resp::fmt_i64(new, &mut digits));
            new
        }
        None => {
            store.set(key, resp::fmt_i64(by, &mut digits), 0);
            by
        }
    };
    resp::int(out, new);
}

/// `EXPIRE key seconds [NX|XX|GT|LT]` (`unit_ms` = 1000) and `PEXPIRE`.
fn expire(
    store: &mut Store,
    args: &[&[u8]],
    unit_ms: i64,
    name: &[u8],
    clock: &mut Clock,
    out: &mut Vec<u8>,
) {
    let key = args[1];
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        if a.eq_ignore_ascii_case(b"nx") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"xx") {
            xx = true;
        } else if a.eq_ignore_ascii_case(b"gt") {
            gt = true;
        } else if a.eq_ignore_ascii_case(b"lt") {
            lt = true;
        } else {
            let mut msg = b"ERR Unsupported option ".to_vec();
            msg.extend_from_slice(a);
            return resp::error(out, &msg);
        }
    }
    if nx && (xx || gt || lt) {
        return resp::error(
            out,
            b"ERR NX and XX, GT or LT options at the same time are not compatible",
        );
    }
    if gt && lt {
        return resp::error(
            out,
            b"ERR GT and LT options at the same time are not compatible",
        );
    }
    let Some(amount) = resp::parse_i64(args[2]) else {
        return resp::error(out, ERR_NOT_INT);
    };
    let now = clock.now();
    let Some(at) = amount
        .checked_mul(unit_ms)
        .and_then(|ms| (now as i64).checked_add(ms))
    else {
        let mut msg = b"ERR invalid expire time in '".to_vec();
        msg.extend_from_slice(name);
        msg.extend_from_slice(b"' command");
        return resp::error(out, &msg);
    };
    let Some(entry) = store.get_mut(key, clock) else {
        return resp::int(out, 0);
    };
    // No TTL counts as an infinite one for GT and LT.
    let cur = entry.expires_at;
    let allowed = (!nx || cur == 0)
        && (!xx || cur != 0)
        && (!gt || (cur != 0 && at > cur as i64))
        && (!lt || cur == 0 || at < cur as i64);
    if !allowed {
        return resp::int(out, 0);
    }
    if at <= now as i64 {
        store.remove(key, clock);
    } else {
        store.set_deadline(key, at as u64, clock);
        ensure_sweeper();
    }
    resp::int(out, 1);
}

/// `TTL` (seconds, rounded as redis does) and `PTTL`.
fn ttl(store: &mut Store, key: &[u8], seconds: bool, clock: &mut Clock, out: &mut Vec<u8>) {
    let reply = match store.get_mut(key, clock).map(|e| e.expires_at) {
        None => -2,
        Some(0) => -1,
        Some(at) => {
            let ms = at.saturating_sub(clock.now()) as i64;
            if seconds {
                (ms + 500) / 1000
            } else {
                ms
            }
        }
    };
    resp::int(out, reply);
}

// ---- multi-key commands --------------------------------------------------------

/// True if every key of `cmd` from argument `first` on, every `step`th, is
/// on this worker.
fn all_local(cmd: &Command<'_>, first: usize, step: usize) -> bool {
    cmd.args()
        .skip(first)
        .step_by(step)
        .all(|k| matches!(shard::route(k), Route::Local))
}

/// Groups the keys of `cmd` (from argument 1) by shard, with the `extra`
/// arguments that follow each key.
fn group_by_shard(cmd: &Command<'_>, extra: usize) -> Vec<Option<Vec<Box<[u8]>>>> {
    let mut groups: Vec<Option<Vec<Box<[u8]>>>> =
        (0..corering::worker_count()).map(|_| None).collect();
    let mut args = cmd.args().skip(1);
    while let Some(key) = args.next() {
        let group = groups[shard::shard(key)].get_or_insert_with(Vec::new);
        group.push(key.into());
        for _ in 0..extra {
            group.push(args.next().unwrap_or_default().into());
        }
    }
    groups
}

async fn mget(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let start = out.len();
    resp::array(out, cmd.argc() - 1);
    if all_local(cmd, 1, 1) {
        with_store(|s| {
            let mut clock = Clock::default();
            for key in cmd.args().skip(1) {
                get(s, key, &mut clock, out);
            }
        });
        return Flow::Continue;
    }
    let groups = group_by_shard(cmd, 0);
    let results = on_shards(groups, |s, keys| {
        let mut clock = Clock::default();
        keys.iter()
            .map(|k| s.get(k, &mut clock).map(Box::<[u8]>::from))
            .collect::<Vec<_>>()
    })
    .await;
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            out.truncate(start);
            call_failed(e, out);
            return Flow::Continue;
        }
    };
    let mut per_shard: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap_or_default().into_iter())
        .collect();
    for key in cmd.args().skip(1) {
        let value = per_shard[shard::shard(key)].next().flatten();
        resp::opt_bulk(out, value.as_deref());
    }
    Flow::Continue
}

async fn mset(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    if all_local(cmd, 1, 2) {
        with_store(|s| {
            let mut args = cmd.args().skip(1);
            while let (Some(k), Some(v)) = (args.next(), args.next()) {
                s.set(k, v, 0);
            }
        });
        out.extend_from_slice(OK);
        return Flow::Continue;
    }
    let groups = group_by_shard(cmd, 1);
    match on_shards(groups, |s, kv| {
        for pair in kv.chunks_exact(2) {
            s.set(&pair[0], &pair[1], 0);
        }
    })
    .await
    {
        Ok(_) => out.extend_from_slice(OK),
        Err(e) => call_failed(e, out),
    }
    Flow::Continue
}

/// `DEL` and `EXISTS`: count the keys removed or present.
#[derive(Clone, Copy)]
enum Count {
    Del,
    Exists,
}

fn count_in(s: &mut Store, keys: impl Iterator<Item = impl AsRef<[u8]>>, what: Count) -> i64 {
    let mut clock = Clock::default();
    keys.filter(|k| match what {
        Count::Del => s.remove(k.as_ref(), &mut clock),
        Count::Exists => s.contains(k.as_ref(), &mut clock),
    })
    .count() as i64
}

async fn count_keys(cmd: &Command<'_>, out: &mut Vec<u8>, what: Count) -> Flow {
    if all_local(cmd, 1, 1) {
        let n = with_store(|s| count_in(s, cmd.args().skip(1), what));
        resp::int(out, n);
        return Flow::Continue;
    }
    let groups = group_by_shard(cmd, 0);
    let results = match what {
        Count::Del => on_shards(groups, |s, keys| count_in(s, keys.iter(), Count::Del)).await,
        Count::Exists => on_shards(groups, |s, keys| count_in(s, keys.iter(), Count::Exists)).await,
    };
    match results {
        Ok(r) => resp::int(out, r.into_iter().flatten().sum()),
        Err(e) => call_failed(e, out),
    }
    Flow::Continue
}

/// The same input for every shard.
fn every_shard<T: Clone>(input: T) -> Vec<Option<T>> {
    vec![Some(input); corering::worker_count()]
}

async fn keys(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let pattern: Box<[u8]> = cmd.arg(1).unwrap_or_default().into();
    let results = on_shards(every_shard(pattern), |s, pattern| {
        let mut clock = Clock::default();
        s.keys(&pattern, &mut clock)
            .into_iter()
            .map(Box::<[u8]>::from)
            .collect::<Vec<_>>()
    })
    .await;
    match results {
        Ok(r) => {
            let keys: Vec<Box<[u8]>> = r.into_iter().flatten().flatten().collect();
            resp::array(out, keys.len());
            for k in &keys {
                resp::bulk(out, k);
            }
        }
        Err(e) => call_failed(e, out),
    }
    Flow::Continue
}

async fn dbsize(out: &mut Vec<u8>) -> Flow {
    match on_shards(every_shard(()), |s, ()| s.key_count()).await {
        Ok(r) => resp::int(out, r.into_iter().flatten().sum::<usize>() as i64),
        Err(e) => call_failed(e, out),
    }
    Flow::Continue
}

async fn flushall(out: &mut Vec<u8>) -> Flow {
    match on_shards(every_shard(()), |s, ()| s.clear()).await {
        Ok(_) => out.extend_from_slice(OK),
        Err(e) => call_failed(e, out),
    }
    Flow::Continue
}

// ---- connection and server commands ----------------------------------------------

fn ping(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    match cmd.argc() {
        1 => out.extend_from_slice(b"+PONG\r\n"),
        2 => resp::opt_bulk(out, cmd.arg(1)),
        _ => return arity_error(b"ping", out),
    }
    Flow::Continue
}

/// `COMMAND [...]`: an empty command table, enough for redis-cli.
fn command(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    match cmd.arg(1) {
        Some(sub) if sub.eq_ignore_ascii_case(b"count") => resp::int(out, 0),
        _ => resp::array(out, 0),
    }
    Flow::Continue
}

/// Settings `CONFIG GET` reports (redis-benchmark asks for two of them).
const CONFIG: &[(&[u8], &[u8])] = &[
    (b"save", b""),
    (b"appendonly", b"no"),
    (b"databases", b"1"),
    (b"maxmemory", b"0"),
];

fn config(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let sub = cmd.arg(1).unwrap_or_default();
    if sub.eq_ignore_ascii_case(b"get") && cmd.argc() >= 3 {
        let hits: Vec<_> = CONFIG
            .iter()
            .filter(|(name, _)| {
                cmd.args()
                    .skip(2)
                    .any(|p| glob::matches(&p.to_ascii_lowercase(), name))
            })
            .collect();
        resp::array(out, hits.len() * 2);
        for (name, value) in hits {
            resp::bulk(out, name);
            resp::bulk(out, value);
        }
    } else if sub.eq_ignore_ascii_case(b"resetstat") {
        out.extend_from_slice(OK);
    } else {
        subcommand_error(b"CONFIG", sub, out);
    }
    Flow::Continue
}

fn client(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    let sub = cmd.arg(1).unwrap_or_default();
    let is = |name: &[u8]| sub.eq_ignore_ascii_case(name);
    if is(b"setname") || is(b"setinfo") || is(b"no-evict") || is(b"no-touch") {
        out.extend_from_slice(OK);
    } else if is(b"getname") {
        out.extend_from_slice(NIL);
    } else {
        subcommand_error(b"CLIENT", sub, out);
    }
    Flow::Continue
}

fn subcommand_error(cmd: &[u8], sub: &[u8], out: &mut Vec<u8>) {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(&sub[..sub.len().min(128)]);
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(cmd);
    msg.extend_from_slice(b" HELP.");
    resp::error(out, &msg);
}

fn select(cmd: &Command<'_>, out: &mut Vec<u8>) -> Flow {
    match cmd.arg(1).and_then(resp::parse_i64) {
        Some(0) => out.extend_from_slice(OK),
        Some(_) => resp::error(out, b"ERR DB index is out of range"),
        None => resp::error(out, ERR_NOT_INT),
    }
    Flow::Continue
}

fn info(out: &mut Vec<u8>) -> Flow {
    let mut text = format!(
        "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n\
         server_name:corering-kv\r\nprocess_id:{}\r\nworkers:{}\r\n",
        std::process::id(),
        corering::worker_count()
    );
    crate::reader_stats::info(&mut text);
    resp::bulk(out, text.as_bytes());
    Flow::Continue
}
