.PHONY: book test env bench clean student solutions
book:   ## build the HTML book into _build/html
	bash scripts/build-book.sh
test:   ## run every test (what CI runs)
	bash scripts/test.sh
student:    ## build the student edition (no solutions) into _build/student/html
	bash scripts/build-student.sh
solutions:  ## printable solutions into _build/solutions
	bash scripts/build-solutions.sh
env:    ## create or refresh .venv
	bash scripts/setup-env.sh
bench:  ## run the benchmarks and record their tables
	.venv/bin/python benchmarks/bench_gaussian.py
clean:
	rm -rf _build
