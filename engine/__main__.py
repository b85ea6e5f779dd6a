from .startup import quiet_start

with quiet_start():                 # Ctrl+C while the command line loads: one line, exit 130
    from .cli import main

raise SystemExit(main())
