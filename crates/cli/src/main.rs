//! `evalgap`: the command line. Thin by design: it parses flags, builds the pieces from the
//! library crates, and maps errors to exit codes (0 done, 1 error, 2 usage error, 130 interrupted).

mod args;
mod commands;

use clap::Parser;
use std::process::ExitCode;

// A run allocates and frees many small strings on every core (variants, requests, records);
// mimalloc does that for a fraction of the system allocator's CPU.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // No transparent huge pages for this process: mimalloc asks for them on its heap, and then a
    // run's resident memory and its kernel time (zeroing 2 MiB pages) grow for no gain at this
    // heap's size. (mimalloc reads its own option before `main`, so the kernel is asked instead.)
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = args::Cli::parse(); // exits 2 on a usage error, 0 on --help/--version
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
