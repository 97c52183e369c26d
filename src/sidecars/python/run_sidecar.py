"""Entry point of the Loop Lag Python sidecar: `python run_sidecar.py`.

Kept to syntax every Python parses, so an interpreter that is too old gets a clear
protocol error instead of a SyntaxError from the package.
"""
import sys

if __name__ == "__main__":
    from too_old import refuse_if_too_old

    refuse_if_too_old()
    if len(sys.argv) > 1:  # one-shot helpers for hosts: outline FILE, check-args TEXT
        from looplag_sidecar.outline import main as tool

        sys.exit(tool(sys.argv[1:]))
    from looplag_sidecar.main import main

    main()
