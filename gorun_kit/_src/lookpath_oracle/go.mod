module gorunkit.local/lookpath_oracle

// Built by gorun_kit.lookpath.real with the same oldest release as the labs.
go 1.22
