# The two commands of README.md.
.PHONY: demo test
demo:
	bash scripts/setup.sh
test:
	bash scripts/test.sh
