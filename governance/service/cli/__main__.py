from governance.service.cli.main import main

main()
