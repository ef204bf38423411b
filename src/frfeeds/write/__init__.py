"""Write a feed tree to disk atomically (writer.TreeWriter): the last step of a build."""
