/* Prints its arguments and environment, then exits with 7. */
#include "ulib.h"
int main(int argc, char **argv, char **envp) {
    printf("hello from pid %d:", getpid());
    for (int i = 0; i < argc; i++) printf(" [%s]", argv[i]);
    printf("\n");
    for (int i = 0; envp[i]; i++) printf("  env %s\n", envp[i]);
    return 7;
}
