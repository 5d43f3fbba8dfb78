from bharnet.cli import main

raise SystemExit(main())
