from ieclid.cli import main

main()
