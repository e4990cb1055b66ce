// lookpath_splitlist prints filepath.SplitList of each JSON string read on
// stdin (one per line) as a JSON array, so chapter 2 can show the real
// splitting rules of Linux and of Windows (a GOOS=windows build under Wine).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			fmt.Fprintln(os.Stderr, "bad input line:", err)
			os.Exit(2)
		}
		out, _ := json.Marshal(filepath.SplitList(s))
		fmt.Println(string(out))
	}
}
