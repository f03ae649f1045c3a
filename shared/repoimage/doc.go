// Package repoimage turns a restore point of the incremental repository (shared/repo) back
// into what restore consumes: an XVA built on the fly for XAPI's /import, or raw disk image
// files. It is the reading half of the manifest records decided for issue 15: the records
// are xva.RepoRecords ({"format":"xbr-ova-2","ova_xml":"<ova.xml>", the disks' CBT bases,
// the VM's name, the job and schedule; format xbr-ova-1 lacks the last three}), ova.xml is
// the snapshot's export header, and the manifest's disks are the header's disks
// (Header.Disks) in that order, each named by its export id ("Ref:N").
//
// Open reads the manifest and checks that its disks and ova.xml agree (count, export ids,
// sizes), so a point that cannot be restored is refused before any byte goes to a pool.
// WriteXVA then writes ova.xml and every disk from repo.OpenDisk, whose reader checks every
// chunk against its id and the whole image against the manifest's SHA-256. A disk's digest
// is checked (its reader read to io.EOF) before the next disk or the end-of-archive blocks
// are written, so an XVA whose end XAPI could see is one whose disks were all verified;
// callers that stream into /import also withhold the tail until WriteXVA returned, as
// restore does for full backups.
//
// WriteImages writes each disk as a raw file <vm>-<timestamp>-<disk>.raw into a local
// folder (<disk>: the disk's index, then its VDI's name; see ImageNames), verified the
// same way, never over an existing file, sparse where chunks are zero.
//
// A point's records are read with xva.DecodeRepoRecords, the one strict decoder of what the
// incremental backup writes.
package repoimage
