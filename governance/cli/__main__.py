from governance.cli.main import main

main()
