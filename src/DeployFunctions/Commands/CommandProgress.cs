using System.Globalization;
using Azure.Data.Tables;
using DeployFunctions.Storage;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Commands;

/// <summary>How far the app got with answering one command comment.</summary>
public enum CommandStage
{
    /// <summary>Never started: no reply can exist, so none is searched for.</summary>
    New,

    /// <summary>Started and not known to be finished (a crash, a lost answer): the reply is searched for before anything is posted.</summary>
    Answering,

    /// <summary>A deployment waits for the commenter's 👍 on the question posted (<see cref="PendingConfirmation"/>).</summary>
    Confirming,

    /// <summary>The command is handled (replied, or its deployment handed over): a redelivery is done at once, without a GitHub call.</summary>
    Answered,

    /// <summary>The final reply to a deployment's result was started: a redelivered status searches for it before posting.</summary>
    Replying,

    /// <summary>The final reply is posted: a redelivered status is done at once.</summary>
    Replied,
}

/// <summary>The question a command waiting for confirmation asked: its comment, the commit it names, and when it lapses.</summary>
public sealed record PendingConfirmation(long QuestionId, string Sha, DateTimeOffset Deadline);

/// <summary>
/// What the app remembers of each command it answers, so the usual path needs no search of the conversation for its own
/// reply: only a command that was started and not finished (<see cref="CommandStage.Answering"/>) pays for that search.
/// </summary>
public interface ICommandProgress
{
    Task<CommandStage> ReadAsync(string repository, long commentId, CancellationToken cancellationToken);

    /// <summary>Moves the comment on to <paramref name="stage"/>; never back (a later stage written already stays).</summary>
    Task AdvanceAsync(string repository, long commentId, CommandStage stage, CancellationToken cancellationToken);

    /// <summary>Moves the comment on to <see cref="CommandStage.Confirming"/>, remembering the question.</summary>
    Task ConfirmingAsync(string repository, long commentId, PendingConfirmation pending, CancellationToken cancellationToken);

    /// <summary>The question of a command at <see cref="CommandStage.Confirming"/>; null at any other stage.</summary>
    Task<PendingConfirmation?> ReadConfirmationAsync(string repository, long commentId, CancellationToken cancellationToken);
}

/// <summary>Command progress in the lock table (<c>LockTable</c>), partition <c>~commands</c>, one row per comment.</summary>
public sealed class TableCommandProgress(TableServiceClient tables, IOptions<StorageNamesOptions> names) : ICommandProgress
{
    public const string Partition = "~commands";
    private readonly LazyTable lazy = new(tables, names.Value.LockTable);

    public async Task<CommandStage> ReadAsync(string repository, long commentId, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(Partition, Key(repository, commentId), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } row && Enum.TryParse<CommandStage>(row.GetString("Stage"), out var stage) ? stage : CommandStage.New;
    }

    public async Task AdvanceAsync(string repository, long commentId, CommandStage stage, CancellationToken cancellationToken)
    {
        // Writers of one comment hold its lease (LockKeys.Comment), so reading and then writing is not a race.
        if (await ReadAsync(repository, commentId, cancellationToken) >= stage)
        {
            return;
        }

        var table = await lazy.GetAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, Key(repository, commentId)) { ["Stage"] = stage.ToString() },
            TableUpdateMode.Replace, cancellationToken);
    }

    public async Task ConfirmingAsync(string repository, long commentId, PendingConfirmation pending, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var table = await lazy.GetAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity(Partition, Key(repository, commentId))
        {
            ["Stage"] = nameof(CommandStage.Confirming),
            ["QuestionId"] = pending.QuestionId,
            ["Sha"] = pending.Sha,
            ["Deadline"] = pending.Deadline,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<PendingConfirmation?> ReadConfirmationAsync(string repository, long commentId, CancellationToken cancellationToken)
    {
        var table = await lazy.GetAsync(cancellationToken);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(Partition, Key(repository, commentId), cancellationToken: cancellationToken);
        return found.HasValue && found.Value is { } row && row.GetString("Stage") == nameof(CommandStage.Confirming) &&
               row.GetInt64("QuestionId") is { } question && row.GetString("Sha") is { } sha && row.GetDateTimeOffset("Deadline") is { } deadline
            ? new PendingConfirmation(question, sha, deadline)
            : null;
    }

    // Repository names hold only letters, digits, '-', '_' and '.'; '/' is not allowed in a row key.
    private static string Key(string repository, long commentId) =>
        repository.ToLowerInvariant().Replace('/', '~') + "~" + commentId.ToString(CultureInfo.InvariantCulture);
}
