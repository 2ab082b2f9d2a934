using DeployFunctions.Board;
using DeployFunctions.Ledger;
using NSubstitute;

namespace DeployFunctions.Tests.Board;

/// <summary>What is live, for .wcid and a confirmation's question: the board's one row, checked against the ledger, else the ledger's scan.</summary>
public sealed class LiveDeploymentTests
{
    private readonly IDeploymentLedger ledger = Substitute.For<IDeploymentLedger>();
    private readonly IDeployBoard board = Substitute.For<IDeployBoard>();

    private static LedgerEntry Entry(long id, LedgerState state) => new()
    {
        Repository = "octo/app", Environment = "production", Sha = new string('a', 40), Ref = "r", BaseBranch = "main", Source = LedgerSources.Merge,
        RequestedBy = "alice", Reason = "merged", Order = DateTimeOffset.UnixEpoch, Payload = "{}", DeliveryId = "d", DeploymentId = id, State = state,
    };

    private static BoardDeployment Shown(long id) => new()
    {
        DeploymentId = id, Sha = new string('a', 40), RequestedBy = "alice", Source = LedgerSources.Merge, State = "success", At = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public async Task The_boards_live_deployment_is_read_back_from_the_ledger_without_scanning_it()
    {
        board.LiveAsync("octo/app", "production", default).Returns(Shown(7));
        ledger.FindDeploymentAsync("octo/app", "production", 7, default).Returns(Entry(7, LedgerState.Succeeded));

        var live = await LiveDeployment.FindAsync(ledger, board, "octo/app", "production", default);

        Assert.Equal(7, live?.DeploymentId);
        await ledger.DidNotReceiveWithAnyArgs().LiveAsync(default!, default!, default);
    }

    [Fact]
    public async Task Without_a_board_row_or_with_one_the_ledger_does_not_confirm_the_ledger_answers()
    {
        ledger.LiveAsync("octo/app", "production", default).Returns(Entry(3, LedgerState.Succeeded));
        Assert.Equal(3, (await LiveDeployment.FindAsync(ledger, board, "octo/app", "production", default))?.DeploymentId);
        Assert.Equal(3, (await LiveDeployment.FindAsync(ledger, null, "octo/app", "production", default))?.DeploymentId);

        board.LiveAsync("octo/app", "production", default).Returns(Shown(9));
        ledger.FindDeploymentAsync("octo/app", "production", 9, default).Returns(Entry(9, LedgerState.Failed));
        Assert.Equal(3, (await LiveDeployment.FindAsync(ledger, board, "octo/app", "production", default))?.DeploymentId);
    }
}
