from transferscope.cli.app import main

main()
