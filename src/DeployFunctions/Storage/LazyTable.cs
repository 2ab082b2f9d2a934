using Azure.Data.Tables;

namespace DeployFunctions.Storage;

/// <summary>A table created on first use (once per instance), so a fresh storage account needs no set-up step.</summary>
public sealed class LazyTable(TableServiceClient tables, string name)
{
    private readonly TableClient table = tables.GetTableClient(name);
    private int created;

    public async Task<TableClient> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref created) == 0)
        {
            await table.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref created, 1);
        }

        return table;
    }
}
