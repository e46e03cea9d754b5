from airshift.cli import main

main()
