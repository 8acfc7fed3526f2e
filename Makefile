# The two commands of README.md.
.PHONY: demo test bench
demo:
	bash scripts/setup.sh
test:
	bash scripts/test.sh
bench:
	bash bench/run.sh
