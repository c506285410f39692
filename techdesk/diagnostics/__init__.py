"""Bundle files -> one script per host; framed output -> check results.

Running a bundle end to end (the SSH part lives in techdesk.ssh):

    bundles, problems = load_bundles([workspace / "bundles"])
    bundle = bundles["linux-health"]
    nonce = new_nonce()
    script = compile_script(bundle, nonce)
    parser = FrameParser(nonce, bundle.checks)
    # exec script.command on the host, write script.text to its stdin, close it
    for chunk in stdout_chunks:
        results += parser.feed(chunk)
    results += parser.finish("connection lost")  # or finish() at a clean EOF
"""

from typing import TYPE_CHECKING

from techdesk.lazy import lazy_exports

# Names load on first use: the CLI catches BundleError without loading the compiler,
# the frame parser and the built-in bundles.
_SOURCES = {
    "Bundle": "bundle", "BundleError": "bundle", "CheckDef": "bundle", "load_bundle_file": "bundle",
    "parse_bundle": "bundle",
    "CompiledScript": "compile", "compile_script": "compile", "new_nonce": "compile",
    "FrameParser": "frames",
    "builtin_bundles": "registry", "load_bundles": "registry",
    "clean_output": "sanitize", "clean_text": "sanitize",
}

if TYPE_CHECKING:
    from techdesk.diagnostics.bundle import (
        Bundle,
        BundleError,
        CheckDef,
        load_bundle_file,
        parse_bundle,
    )
    from techdesk.diagnostics.compile import CompiledScript, compile_script, new_nonce
    from techdesk.diagnostics.frames import FrameParser
    from techdesk.diagnostics.registry import builtin_bundles, load_bundles
    from techdesk.diagnostics.sanitize import clean_output, clean_text

__getattr__ = lazy_exports(__name__, _SOURCES)

__all__ = [
    "Bundle", "BundleError", "CheckDef", "CompiledScript", "FrameParser", "builtin_bundles",
    "clean_output", "clean_text", "compile_script", "load_bundle_file", "load_bundles",
    "new_nonce", "parse_bundle",
]
