//! Startup errors an operator will meet: io_uring blocked by seccomp or
//! missing from the kernel. The echo example is started under a seccomp
//! filter that makes `io_uring_setup` fail the way container runtimes do;
//! it must print one clear message and exit non-zero.

#![cfg(target_arch = "x86_64")]

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

fn echo_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/echo")
}

/// Runs the echo example with `io_uring_setup` failing with `errno`.
fn run_with_io_uring_denied(errno: u32) -> (Option<i32>, String) {
    let mut cmd = Command::new(echo_bin());
    cmd.args(["--addr", "127.0.0.1:0", "--workers", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe syscalls (prctl) on data prepared on its stack.
    unsafe {
        cmd.pre_exec(move || {
            const SYS_IO_URING_SETUP: u32 = 425;
            let filter = [
                // A = seccomp_data.nr
                libc::sock_filter {
                    code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
                    jt: 0,
                    jf: 0,
                    k: 0,
                },
                // if A == io_uring_setup goto deny else goto allow
                libc::sock_filter {
                    code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 1,
                    k: SYS_IO_URING_SETUP,
                },
                libc::sock_filter {
                    code: (libc::BPF_RET | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 0,
                    k: libc::SECCOMP_RET_ERRNO | errno,
                },
                libc::sock_filter {
                    code: (libc::BPF_RET | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 0,
                    k: libc::SECCOMP_RET_ALLOW,
                },
            ];
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER as libc::c_ulong,
                    &prog as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run echo example");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn seccomp_denial_is_explained() {
    let (code, stderr) = run_with_io_uring_denied(libc::EPERM as u32);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert!(stderr.contains("seccomp"), "stderr: {stderr}");
    assert!(stderr.contains("io_uring_setup"), "stderr: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one message, not a backtrace: {stderr}"
    );
}

#[test]
fn missing_io_uring_is_explained() {
    let (code, stderr) = run_with_io_uring_denied(libc::ENOSYS as u32);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert!(stderr.contains("not available"), "stderr: {stderr}");
    assert!(stderr.contains("Linux 6.1"), "stderr: {stderr}");
}
