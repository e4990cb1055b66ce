// ch1_hello is chapter 1's hello world: the program whose binary the chapter
// opens to count how much of it is the runtime.
package main

import "fmt"

func main() {
	fmt.Println("hello, world")
}
