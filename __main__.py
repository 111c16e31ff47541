from funnelspec.cli import main

main(prog_name="funnel")
