// minivmm's entry point: everything happens in minivmm_main (vmm/cli).
#include "cli/cli.hpp"

int main(int argc, char** argv) { return minivmm::minivmm_main(argc, argv); }
