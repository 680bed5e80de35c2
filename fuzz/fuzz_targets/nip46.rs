#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| samizdat_fuzzing::nip46(data));
