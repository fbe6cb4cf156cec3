#include <iostream>
int main() { std::cout << "llmc\n"; return 0; }
