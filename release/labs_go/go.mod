module gorunkit.local/labs

// The oldest release the course supports; every lab must build with it.
go 1.22
