"""Entry point of Loop Lag's Python server harness (service mode): `python run_serve.py`.

Kept to syntax every Python parses, so an interpreter that is too old gets a clear
protocol error instead of a SyntaxError from the package.
"""

if __name__ == "__main__":
    from too_old import refuse_if_too_old

    refuse_if_too_old()
    from looplag_sidecar.serve.main import main

    main()
