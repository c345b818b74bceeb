// Command ${{ values.name }} is a new service.
package main

func main() {}
