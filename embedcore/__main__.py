from embedcore.cli import main

raise SystemExit(main())
