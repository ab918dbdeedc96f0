//! The CPUs a server may use: the process's affinity mask, capped by its
//! cgroup's CPU quota (containers).
//!
//! A container limited to 2 CPUs on a 64-core host still sees 64 CPUs in its
//! affinity mask; the limit is a CFS quota in its cgroup. The default worker
//! count is therefore `min(CPUs in the mask, ceil(quota / period))`, taking
//! the smallest quota of the process's cgroup and its ancestors (cgroup v2
//! `cpu.max`, or v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), and at least 1.
//!
//! ```text
//! /proc/self/cgroup     0::/system.slice/app.service      (v2 path)
//! /proc/self/mountinfo  ... / /sys/fs/cgroup ... - cgroup2 cgroup2 rw
//! → /sys/fs/cgroup/system.slice/app.service/cpu.max   "200000 100000" → 2
//!   /sys/fs/cgroup/system.slice/cpu.max               "max 100000"    → no cap
//! ```

use std::path::{Path, PathBuf};

/// CPUs this process may run on (its affinity mask), in ascending order.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the cpu_set_t we pass.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// The default number of workers: CPUs in the affinity mask, capped by the
/// cgroup CPU quota, at least 1.
pub(crate) fn default_workers(allowed: usize) -> usize {
    pick_workers(allowed, cgroup_cpu_limit())
}

/// `allowed` CPUs capped by `limit` (if any), at least 1.
fn pick_workers(allowed: usize, limit: Option<usize>) -> usize {
    limit.map_or(allowed, |l| allowed.min(l)).max(1)
}

/// The CPU limit of this process's cgroup (the smallest over it and its
/// ancestors), in whole CPUs rounded up; `None` if there is none or it
/// cannot be read.
pub(crate) fn cgroup_cpu_limit() -> Option<usize> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let paths = parse_cgroup(&cgroup);
    let mut limit: Option<usize> = None;
    for m in parse_mounts(&mountinfo) {
        let Some(path) = (if m.v2 { &paths.v2 } else { &paths.v1_cpu }) else {
            continue;
        };
        for dir in limit_dirs(path, &m.root, &m.point) {
            let l = if m.v2 {
                read(&dir.join("cpu.max")).and_then(|s| parse_cpu_max(&s))
            } else {
                let q = read(&dir.join("cpu.cfs_quota_us"));
                let p = read(&dir.join("cpu.cfs_period_us"));
                q.zip(p).and_then(|(q, p)| parse_cfs(&q, &p))
            };
            if let Some(l) = l {
                limit = Some(limit.map_or(l, |m| m.min(l)));
            }
        }
    }
    limit
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

/// Whole CPUs allowed by a cgroup v2 `cpu.max` ("QUOTA PERIOD", or "max
/// PERIOD" for no limit), rounded up.
fn parse_cpu_max(s: &str) -> Option<usize> {
    let mut it = s.split_whitespace();
    let quota = it.next()?;
    let period: u64 = it.next().map_or(Some(100_000), |p| p.parse().ok())?;
    if quota == "max" {
        return None;
    }
    cpus(quota.parse().ok()?, period)
}

/// Whole CPUs allowed by cgroup v1 `cpu.cfs_quota_us` and
/// `cpu.cfs_period_us` (a quota of -1 means no limit), rounded up.
fn parse_cfs(quota: &str, period: &str) -> Option<usize> {
    let quota: i64 = quota.trim().parse().ok()?;
    let period: u64 = period.trim().parse().ok()?;
    cpus(u64::try_from(quota).ok()?, period)
}

fn cpus(quota: u64, period: u64) -> Option<usize> {
    if quota == 0 || period == 0 {
        return None;
    }
    Some(quota.div_ceil(period) as usize)
}

/// This process's cgroup paths, from `/proc/self/cgroup`.
#[derive(Debug, Default, PartialEq, Eq)]
struct CgroupPaths {
    /// The v2 (unified) path: the `0::PATH` line.
    v2: Option<String>,
    /// The v1 path of the hierarchy with the `cpu` controller.
    v1_cpu: Option<String>,
}

fn parse_cgroup(s: &str) -> CgroupPaths {
    let mut out = CgroupPaths::default();
    for line in s.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(id), Some(ctrl), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if id == "0" && ctrl.is_empty() {
            out.v2 = Some(path.to_string());
        } else if ctrl.split(',').any(|c| c == "cpu") {
            out.v1_cpu = Some(path.to_string());
        }
    }
    out
}

/// A mounted cgroup hierarchy that may hold CPU limits.
#[derive(Debug, PartialEq, Eq)]
struct Mount {
    /// The hierarchy's directory shown at the mount point.
    root: String,
    point: PathBuf,
    /// cgroup2 (else a v1 hierarchy with the `cpu` controller).
    v2: bool,
}

/// The cgroup2 mount and v1 `cpu` mounts in `/proc/self/mountinfo`.
fn parse_mounts(s: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in s.lines() {
        // ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(fstype)) = (left.get(3), left.get(4), right.first())
        else {
            continue;
        };
        let v2 = *fstype == "cgroup2";
        let v1_cpu = *fstype == "cgroup"
            && right
                .get(2)
                .is_some_and(|o| o.split(',').any(|c| c == "cpu"));
        if v2 || v1_cpu {
            out.push(Mount {
                root: unescape(root),
                point: PathBuf::from(unescape(point)),
                v2,
            });
        }
    }
    out
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The directories holding the limits of cgroup `path` under a mount of
/// hierarchy directory `root` at `point`: its own, then each ancestor's up
/// to the mount point. A cgroup outside what is mounted yields the mount
/// point only.
fn limit_dirs(path: &str, root: &str, point: &Path) -> Vec<PathBuf> {
    let root = root.trim_end_matches('/');
    let rel = match path.strip_prefix(root) {
        Some(r) if r.is_empty() || r.starts_with('/') => r,
        _ => "",
    };
    let mut dirs = Vec::new();
    let mut rel = rel.trim_end_matches('/');
    loop {
        dirs.push(point.join(rel.trim_start_matches('/')));
        match rel.rfind('/') {
            Some(i) => rel = &rel[..i],
            None => break,
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(2));
        assert_eq!(parse_cpu_max("150000 100000"), Some(2), "rounded up");
        assert_eq!(parse_cpu_max("50000 100000"), Some(1));
        assert_eq!(
            parse_cpu_max("400000"),
            Some(4),
            "period defaults to 100 ms"
        );
        assert_eq!(parse_cpu_max(""), None);
        assert_eq!(parse_cpu_max("lots 100000"), None);
        assert_eq!(parse_cpu_max("100000 0"), None);
    }

    #[test]
    fn cfs_v1() {
        assert_eq!(parse_cfs("-1\n", "100000\n"), None);
        assert_eq!(parse_cfs("250000\n", "100000\n"), Some(3));
        assert_eq!(parse_cfs("100000", "100000"), Some(1));
        assert_eq!(parse_cfs("x", "100000"), None);
    }

    #[test]
    fn cgroup_lines() {
        let v2 = "0::/system.slice/app.service\n";
        assert_eq!(
            parse_cgroup(v2),
            CgroupPaths {
                v2: Some("/system.slice/app.service".into()),
                v1_cpu: None
            }
        );
        let hybrid = "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n\
                      1:name=systemd:/docker/abc\n0::/docker/abc\n";
        assert_eq!(
            parse_cgroup(hybrid),
            CgroupPaths {
                v2: Some("/docker/abc".into()),
                v1_cpu: Some("/docker/abc".into())
            }
        );
        // "cpuacct" alone or "cpuset" is not the cpu controller.
        let other = "3:cpuset:/a\n2:cpuacct:/b\n";
        assert_eq!(parse_cgroup(other), CgroupPaths::default());
    }

    #[test]
    fn mountinfo_lines() {
        let s = "\
22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
31 24 0:27 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
32 24 0:28 / /sys/fs/cgroup/cpuset rw,relatime shared:10 - cgroup cgroup rw,cpuset
33 24 0:29 / /mnt/with\\040space rw - cgroup2 none rw
";
        let m = parse_mounts(s);
        assert_eq!(
            m,
            vec![
                Mount {
                    root: "/".into(),
                    point: "/sys/fs/cgroup".into(),
                    v2: true
                },
                Mount {
                    root: "/docker/abc".into(),
                    point: "/sys/fs/cgroup/cpu,cpuacct".into(),
                    v2: false
                },
                Mount {
                    root: "/".into(),
                    point: "/mnt/with space".into(),
                    v2: true
                },
            ]
        );
    }

    #[test]
    fn walk_up_to_the_mount_point() {
        let p = Path::new("/sys/fs/cgroup");
        assert_eq!(
            limit_dirs("/a/b", "/", p),
            vec![
                PathBuf::from("/sys/fs/cgroup/a/b"),
                PathBuf::from("/sys/fs/cgroup/a"),
                PathBuf::from("/sys/fs/cgroup"),
            ]
        );
        assert_eq!(
            limit_dirs("/", "/", p),
            vec![PathBuf::from("/sys/fs/cgroup")]
        );
        // A container that sees its own cgroup as the mount's root.
        assert_eq!(
            limit_dirs("/docker/abc/sub", "/docker/abc", p),
            vec![
                PathBuf::from("/sys/fs/cgroup/sub"),
                PathBuf::from("/sys/fs/cgroup"),
            ]
        );
        // Not under the mounted root: only the mount point.
        assert_eq!(
            limit_dirs("/other", "/docker/abc", p),
            vec![p.to_path_buf()]
        );
    }

    #[test]
    fn workers_are_capped_by_the_quota() {
        assert_eq!(pick_workers(64, Some(2)), 2);
        assert_eq!(pick_workers(2, Some(8)), 2);
        assert_eq!(pick_workers(4, None), 4);
        assert_eq!(pick_workers(0, None), 1);
    }
}
