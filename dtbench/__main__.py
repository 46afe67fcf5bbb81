from dtbench.cli import main

main()
